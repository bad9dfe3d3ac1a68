"""A local (sqlite) MLflow store is created and migrated by one process at a time.

MLflow builds a new sqlite store's schema, and upgrades an old one, with its Alembic migrations when a client
first touches it. Two step processes of the multiprocess executor (or two runs) opening a store that does not
exist yet would both migrate it, and all but one fail ('table ... already exists', 'duplicate column'). A file
lock next to the database serialises that first open; later opens find the schema current and take the lock only
once per process."""

from __future__ import annotations

from pathlib import Path

from filelock import FileLock
from mlflow.tracking import MlflowClient

SQLITE_PREFIX = "sqlite:///"
_ready: set[str] = set()


def prepare_local_store(tracking_uri: str) -> None:
    """Create the folder and the schema of a sqlite store under its lock; other stores are left to MLflow."""
    if not tracking_uri.startswith(SQLITE_PREFIX) or tracking_uri in _ready:
        return
    path = Path(tracking_uri.removeprefix(SQLITE_PREFIX))
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{path}.lock"):
        client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        client.search_experiments(max_results=1)  # the tracking store: creates or migrates the schema
        client.search_registered_models(max_results=1)  # the registry store checks the same schema
    _ready.add(tracking_uri)
