"""The Celery app of the distributed profile's step workers (`celery -A cointrader_pipelines.celery_app worker`).

Dagster's celery executor submits every step of a run as one task on queue `dagster`; a worker on any host that
imports this module runs it against the shared instance (PostgreSQL) and code. Settings that make a lost worker
harmless: a task is acknowledged only after it finished (`task_acks_late`), and when the process running it dies
(OOM kill, SIGKILL) the worker puts it back on the queue (`task_reject_on_worker_lost`), so another worker runs
the step again while the run waits; one task per worker process at a time (`worker_prefetch_multiplier=1`).
A whole host lost is recovered by the broker once `visibility_timeout` passes (longer than any step).
Broker and result backend come from COINTRADER_CELERY_BROKER / COINTRADER_CELERY_BACKEND (they carry a password:
never put them on a command line).
"""

from __future__ import annotations

import os

from celery import Celery
from dagster_celery.make_app import make_app as dagster_celery_app
from dagster_celery.tasks import create_task

BROKER_ENV = "COINTRADER_CELERY_BROKER"
BACKEND_ENV = "COINTRADER_CELERY_BACKEND"
#: seconds before the broker hands an unacknowledged task of a vanished host to another worker
VISIBILITY_TIMEOUT_S = 4 * 3600


def make_app(broker: str, backend: str) -> Celery:
    """Dagster's app (queue `dagster`, routes, priorities) with the settings above."""
    app = dagster_celery_app({"broker": broker, "backend": backend})
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_S},
        broker_connection_retry_on_startup=True,
        result_expires=7 * 24 * 3600,
        worker_hijack_root_logger=False,
    )
    return app


app = make_app(os.environ.get(BROKER_ENV, ""), os.environ.get(BACKEND_ENV, ""))
execute_plan = create_task(app)
