#!/bin/sh
# Turn the mounted secret files (/run/secrets/pg_password, /run/secrets/redis_password) into the environment the
# profile reads, then run the service. Passwords never appear in the compose file, the image or a command line.
# A service given neither secret (the trader) starts with neither.
set -eu
if [ -r /run/secrets/pg_password ]; then
    DAGSTER_PG_PASSWORD="$(cat /run/secrets/pg_password)"
    PG="${DAGSTER_PG_USER}:${DAGSTER_PG_PASSWORD}@${DAGSTER_PG_HOST}:${DAGSTER_PG_PORT}"
    export DAGSTER_PG_PASSWORD
    export COINTRADER_OPTUNA_STORAGE="postgresql+psycopg2://${PG}/optuna"
    export MLFLOW_BACKEND_STORE_URI="postgresql+psycopg2://${PG}/mlflow"
    unset PG
fi
if [ -r /run/secrets/redis_password ]; then
    REDIS_PASSWORD="$(cat /run/secrets/redis_password)"
    export COINTRADER_CELERY_BROKER="redis://:${REDIS_PASSWORD}@redis:6379/0"
    export COINTRADER_CELERY_BACKEND="redis://:${REDIS_PASSWORD}@redis:6379/1"
    unset REDIS_PASSWORD
fi
exec "$@"
