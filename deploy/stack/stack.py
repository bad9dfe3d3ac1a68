"""Start, stop and describe the distributed profile on loopback: PostgreSQL, Redis, the MLflow tracking server,
the Dagster daemon and Celery step workers, from Debian packages and this virtualenv.

Why a script and not a compose file here: the development machine and CI run no container engine; the same
services, ports and settings are described for containers in `deploy/compose/` and for Kubernetes in `deploy/k8s/`.

Everything lives under `.stack/` (git-ignored): credentials are generated once into `.stack/credentials.env`
(mode 0600) and handed to the processes through their environment, never on a command line or in a log.

    python deploy/stack/stack.py up [--workers 2]   # idempotent; waits until every service answers
    python deploy/stack/stack.py down                # stops what `up` started (by recorded pid)
    python deploy/stack/stack.py status
    python deploy/stack/stack.py kill-worker 1       # SIGKILL a worker's busy pool process (recovery drills)
    python deploy/stack/stack.py stop mlflow         # stop one service
    python deploy/stack/stack.py run -- CMD ...      # CMD with the profile's environment (secrets included)
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STATE = Path(os.environ.get("COINTRADER_STACK_DIR", ROOT / ".stack")).resolve()
CREDENTIALS = STATE / "credentials.env"
VENV_BIN = Path(sys.executable).parent
def _pg_bin() -> Path:
    """Debian's PostgreSQL binaries (the newest installed major version), or COINTRADER_PG_BIN."""
    if os.environ.get("COINTRADER_PG_BIN"):
        return Path(os.environ["COINTRADER_PG_BIN"])
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else Path("/usr/lib/postgresql/15/bin")


PG_BIN = _pg_bin()
DATABASES = ("dagster", "mlflow", "optuna")
PORTS = {
    "postgres": int(os.environ.get("COINTRADER_STACK_PG_PORT", "55432")),
    "redis": int(os.environ.get("COINTRADER_STACK_REDIS_PORT", "56379")),
    "mlflow": int(os.environ.get("COINTRADER_STACK_MLFLOW_PORT", "55000")),
    "dagster_ui": int(os.environ.get("COINTRADER_STACK_UI_PORT", "53000")),
    "code_server": int(os.environ.get("COINTRADER_STACK_CODE_PORT", "54000")),
}
HOST = "127.0.0.1"
PG_USER = "cointrader"
WORKER_QUEUE = "dagster"


class StackError(RuntimeError):
    """A service did not start or a prerequisite is missing (one line for the user)."""


# --------------------------------------------------------------------------------------------- credentials / env

def credentials() -> dict[str, str]:
    """Generated passwords, created once with mode 0600 (the folder is 0711: the database user may traverse it)."""
    STATE.mkdir(parents=True, exist_ok=True)
    STATE.chmod(0o711)
    if not CREDENTIALS.exists():
        fd = os.open(CREDENTIALS, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"COINTRADER_STACK_PG_PASSWORD={secrets.token_urlsafe(24)}\n")
            fh.write(f"COINTRADER_STACK_REDIS_PASSWORD={secrets.token_urlsafe(24)}\n")
    os.chmod(CREDENTIALS, 0o600)
    values = {}
    for line in CREDENTIALS.read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip():
            values[key.strip()] = value.strip()
    return values


def profile_env(creds: dict[str, str] | None = None) -> dict[str, str]:
    """The environment every client of the profile runs with (pipelines, workers, tests, the trader)."""
    creds = creds or credentials()
    pg_pw, redis_pw = creds["COINTRADER_STACK_PG_PASSWORD"], creds["COINTRADER_STACK_REDIS_PASSWORD"]
    pg = f"{PG_USER}:{pg_pw}@{HOST}:{PORTS['postgres']}"
    redis = f"redis://:{redis_pw}@{HOST}:{PORTS['redis']}"
    return {
        "COINTRADER_PROFILE": "stack",
        "COINTRADER_STACK_WORKSPACE": str(WORKSPACE),
        "DAGSTER_HOME": str(STATE / "dagster_home"),
        "DAGSTER_PG_HOST": HOST, "DAGSTER_PG_PORT": str(PORTS["postgres"]), "DAGSTER_PG_USER": PG_USER,
        "DAGSTER_PG_PASSWORD": pg_pw, "DAGSTER_PG_DB": "dagster",
        "COINTRADER_CELERY_BROKER": f"{redis}/0",
        "COINTRADER_CELERY_BACKEND": f"{redis}/1",
        "MLFLOW_TRACKING_URI": f"http://{HOST}:{PORTS['mlflow']}",
        "COINTRADER_MLFLOW_UI_URL": f"http://{HOST}:{PORTS['mlflow']}",
        "COINTRADER_DAGSTER_UI_URL": f"http://{HOST}:{PORTS['dagster_ui']}",
        "COINTRADER_OPTUNA_STORAGE": f"postgresql+psycopg2://{pg}/optuna",
        "COINTRADER_TUNING_WORKERS": os.environ.get("COINTRADER_TUNING_WORKERS", "2"),
        "COINTRADER_WAREHOUSE": str(STATE / "warehouse" / "market.duckdb"),
        "COINTRADER_WAREHOUSE_SNAPSHOTS": str(STATE / "warehouse" / "snapshots"),
        "COINTRADER_REPORT_DIR": str(STATE / "results" / "weekly"),
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DAGSTER_DISABLE_TELEMETRY": "true",
    }


def _env(creds: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **profile_env(creds)}


# ------------------------------------------------------------------------------------------------ processes

def _pidfile(name: str) -> Path:
    return STATE / "run" / f"{name}.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of ours counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def _running(name: str) -> int | None:
    path = _pidfile(name)
    if not path.exists():
        return None
    pid = int(path.read_text().strip() or 0)
    return pid if pid and _alive(pid) else None


def _spawn(name: str, argv: list[str], env: dict[str, str]) -> int:
    """Start a long-running service detached from this process; its output goes to .stack/log/<name>.log."""
    if (pid := _running(name)) is not None:
        return pid
    (STATE / "log").mkdir(exist_ok=True)
    (STATE / "run").mkdir(exist_ok=True)
    log = open(STATE / "log" / f"{name}.log", "ab")
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    _pidfile(name).write_text(str(proc.pid))
    return proc.pid


def _wait_port(port: int, name: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(1.0)
            if s.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.3)
    raise StackError(f"{name} did not listen on {HOST}:{port} within {timeout:.0f} s (see {STATE}/log/{name}.log)")


def _stop(name: str, timeout: float = 20.0) -> None:
    pid = _running(name)
    if pid is not None:
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)
    _pidfile(name).unlink(missing_ok=True)


# ------------------------------------------------------------------------------------------------ PostgreSQL

def _pg_owner() -> tuple[int, int] | None:
    """PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` system user."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam("postgres")
    except KeyError:
        raise StackError("running as root needs the 'postgres' system user (apt-get install postgresql)") from None
    return entry.pw_uid, entry.pw_gid


def _as_pg_owner(owner: tuple[int, int] | None):
    if owner is None:
        return None

    def demote() -> None:
        os.setgid(owner[1])
        os.setuid(owner[0])
    return demote


def start_postgres(creds: dict[str, str]) -> None:
    if not (PG_BIN / "initdb").exists():
        raise StackError(f"PostgreSQL binaries not found in {PG_BIN} (apt-get install postgresql)")
    data, owner = STATE / "pg" / "data", _pg_owner()
    sock = STATE / "pg" / "sock"
    if not (data / "PG_VERSION").exists():
        for folder in (STATE / "pg", data, sock):
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o700)
            if owner:
                os.chown(folder, *owner)
        pwfile = STATE / "pg" / "pwfile"
        pwfile.write_text(creds["COINTRADER_STACK_PG_PASSWORD"] + "\n")
        pwfile.chmod(0o600)
        if owner:
            os.chown(pwfile, *owner)
        try:
            subprocess.run([str(PG_BIN / "initdb"), "-D", str(data), "-U", PG_USER, f"--pwfile={pwfile}",
                            "--auth=scram-sha-256", "-E", "UTF8", "--locale=C"],
                           check=True, capture_output=True, preexec_fn=_as_pg_owner(owner))
        except subprocess.CalledProcessError as exc:
            raise StackError("initdb failed: " + exc.stderr.decode(errors="replace").strip().splitlines()[-1]) from None
        finally:
            pwfile.unlink(missing_ok=True)
    if _running("postgres") is None:
        options = (f"-c listen_addresses={HOST} -c port={PORTS['postgres']} -c unix_socket_directories={sock} "
                   "-c max_connections=200 -c shared_buffers=64MB -c fsync=on -c log_min_messages=warning")
        env = {k: v for k, v in os.environ.items() if not k.startswith("COINTRADER_STACK_")}
        (STATE / "log").mkdir(exist_ok=True)
        (STATE / "run").mkdir(exist_ok=True)
        log = STATE / "log" / "postgres.log"
        log.touch()
        if owner:
            os.chown(log, *owner)
        subprocess.run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "-t", "60",
                        "start"], check=True, capture_output=True, env=env, preexec_fn=_as_pg_owner(owner))
        pid = int((data / "postmaster.pid").read_text().splitlines()[0])
        _pidfile("postgres").write_text(str(pid))
    _wait_port(PORTS["postgres"], "postgres")
    _create_databases(creds)


def _create_databases(creds: dict[str, str]) -> None:
    import psycopg2  # the [stack] extra

    con = psycopg2.connect(host=HOST, port=PORTS["postgres"], user=PG_USER,
                           password=creds["COINTRADER_STACK_PG_PASSWORD"], dbname="postgres")
    con.autocommit = True
    with con.cursor() as cur:
        for name in DATABASES:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{name}"')
    con.close()


def stop_postgres() -> None:
    data = STATE / "pg" / "data"
    if (data / "postmaster.pid").exists():
        subprocess.run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], capture_output=True,
                       preexec_fn=_as_pg_owner(_pg_owner()))
    _pidfile("postgres").unlink(missing_ok=True)


# ------------------------------------------------------------------------------------------------ Redis / MLflow

def start_redis(creds: dict[str, str]) -> None:
    binary = shutil.which("redis-server")
    if binary is None:
        raise StackError("redis-server not found (apt-get install redis-server)")
    folder = STATE / "redis"
    folder.mkdir(exist_ok=True)
    conf = folder / "redis.conf"
    fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:  # the password sits in this 0600 file, not on the command line
        fh.write(f"bind {HOST}\nport {PORTS['redis']}\nprotected-mode yes\ndaemonize no\ndir {folder}\n"
                 f"save \"\"\nappendonly no\nrequirepass {creds['COINTRADER_STACK_REDIS_PASSWORD']}\n")
    _spawn("redis", [binary, str(conf)], dict(os.environ))
    _wait_port(PORTS["redis"], "redis")


def start_mlflow(creds: dict[str, str]) -> None:
    env = _env(creds)
    pg_pw = creds["COINTRADER_STACK_PG_PASSWORD"]
    env["MLFLOW_BACKEND_STORE_URI"] = f"postgresql+psycopg2://{PG_USER}:{pg_pw}@{HOST}:{PORTS['postgres']}/mlflow"
    artifacts = STATE / "mlartifacts"
    artifacts.mkdir(exist_ok=True)
    _spawn("mlflow", [str(VENV_BIN / "mlflow"), "server", "--host", HOST, "--port", str(PORTS["mlflow"]),
                      "--workers", "2", "--serve-artifacts", "--artifacts-destination", str(artifacts)], env)
    _wait_port(PORTS["mlflow"], "mlflow", timeout=180)


# ------------------------------------------------------------------------------------------------ Dagster

WORKSPACE = STATE / "workspace.yaml"


def write_instance() -> None:
    """DAGSTER_HOME of the profile (`deploy/stack/dagster.yaml`, secrets referenced as env vars) and a workspace
    that points at the long-running code server (as a multi-host deployment does)."""
    home = STATE / "dagster_home"
    home.mkdir(exist_ok=True)
    shutil.copyfile(ROOT / "deploy" / "stack" / "dagster.yaml", home / "dagster.yaml")
    WORKSPACE.write_text("load_from:\n  - grpc_server:\n      host: " + HOST + "\n      port: "
                         + str(PORTS["code_server"]) + "\n      location_name: cointrader_pipelines\n")


def start_code_server(creds: dict[str, str]) -> None:
    """One code server for the daemon, the UI and every launch: no per-process server that dies on a missed
    heartbeat, and the code location is loaded once."""
    _spawn("code-server", [str(VENV_BIN / "dagster"), "code-server", "start", "-h", HOST,
                           "-p", str(PORTS["code_server"]), "-m", "cointrader_pipelines.definitions",
                           "--location-name", "cointrader_pipelines"], _env(creds))
    _wait_port(PORTS["code_server"], "code-server", timeout=300)


def start_daemon(creds: dict[str, str]) -> None:
    _spawn("dagster-daemon", [str(VENV_BIN / "dagster-daemon"), "run", "-w", str(WORKSPACE)], _env(creds))


def start_ui(creds: dict[str, str]) -> None:
    _spawn("dagster-webserver", [str(VENV_BIN / "dagster-webserver"), "-h", HOST, "-p", str(PORTS["dagster_ui"]),
                                 "-w", str(WORKSPACE)], _env(creds))
    _wait_port(PORTS["dagster_ui"], "dagster-webserver", timeout=180)


def worker_name(index: int) -> str:
    return f"worker{index}"


def start_workers(creds: dict[str, str], count: int) -> None:
    for i in range(1, count + 1):
        _spawn(worker_name(i), [str(VENV_BIN / "celery"), "-A", "cointrader_pipelines.celery_app", "worker",
                                "-n", f"{worker_name(i)}@%h", "-Q", WORKER_QUEUE, "--concurrency", "1",
                                "--prefetch-multiplier", "1", "--loglevel", "INFO", "--without-gossip",
                                "--without-mingle"], _env(creds))
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if len(ready_workers(creds)) >= count:
            return
        time.sleep(1.0)
    raise StackError(f"the {count} Celery workers did not come up within 180 s (see {STATE}/log/worker*.log)")


def ready_workers(creds: dict[str, str]) -> list[str]:
    from cointrader_pipelines.celery_app import make_app

    app = make_app(profile_env(creds)["COINTRADER_CELERY_BROKER"], profile_env(creds)["COINTRADER_CELERY_BACKEND"])
    replies = app.control.ping(timeout=1.0) or []
    return sorted(name for reply in replies for name in reply)


def kill_worker_child(index: int) -> int:
    """SIGKILL the pool process of worker `index` (the process running its step), as an OOM kill would."""
    pid = _running(worker_name(index))
    if pid is None:
        raise StackError(f"{worker_name(index)} is not running")
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    if not children:
        raise StackError(f"{worker_name(index)} has no pool process")
    child = int(children[0])
    os.kill(child, signal.SIGKILL)
    return child


# ------------------------------------------------------------------------------------------------ commands

SERVICES = ("dagster-webserver", "dagster-daemon", "code-server", "mlflow", "redis")


def up(workers: int, ui: bool) -> None:
    creds = credentials()
    write_instance()
    start_postgres(creds)
    start_redis(creds)
    start_mlflow(creds)
    start_code_server(creds)
    start_daemon(creds)
    start_workers(creds, workers)
    if ui:
        start_ui(creds)
    print(f"stack up: PostgreSQL {HOST}:{PORTS['postgres']}, Redis {HOST}:{PORTS['redis']}, "
          f"MLflow http://{HOST}:{PORTS['mlflow']}, {workers} Celery workers, Dagster daemon"
          + (f", Dagster UI http://{HOST}:{PORTS['dagster_ui']}" if ui else "")
          + f"; credentials in {CREDENTIALS} (0600)")


def down() -> None:
    run_dir = STATE / "run"
    names = sorted(p.stem for p in run_dir.glob("worker*.pid")) if run_dir.exists() else []
    for name in [*names, *SERVICES]:
        _stop(name)
    stop_postgres()
    print("stack down")


def status() -> int:
    names = sorted(p.stem for p in (STATE / "run").glob("*.pid")) if (STATE / "run").exists() else []
    for name in names:
        pid = _running(name)
        print(f"{name:20s} {'running pid ' + str(pid) if pid else 'stopped'}")
    return 0 if names and all(_running(n) for n in names) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The distributed profile on loopback.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="start (or complete) the stack")
    p_up.add_argument("--workers", type=int, default=int(os.environ.get("COINTRADER_STACK_WORKERS", "2")))
    p_up.add_argument("--ui", action="store_true", help="also start the Dagster UI")
    sub.add_parser("down", help="stop everything `up` started")
    sub.add_parser("status", help="which services run")
    p_kill = sub.add_parser("kill-worker", help="SIGKILL a worker's pool process")
    p_kill.add_argument("index", type=int)
    p_stop = sub.add_parser("stop", help="stop one service (e.g. mlflow, to see the trader keep its model)")
    p_stop.add_argument("service", choices=SERVICES)
    sub.add_parser("env", help="the profile's environment as JSON (includes secrets: for programs, not logs)")
    p_run = sub.add_parser("run", help="run a command with the profile's environment")
    p_run.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            if not 0 <= args.workers <= 16:
                print("error: --workers must be between 0 and 16", file=sys.stderr)
                return 2
            up(args.workers, args.ui)
        elif args.command == "down":
            down()
        elif args.command == "status":
            return status()
        elif args.command == "stop":
            _stop(args.service)
        elif args.command == "env":
            json.dump(profile_env(), sys.stdout)
        elif args.command == "kill-worker":
            print(f"killed pool process {kill_worker_child(args.index)} of {worker_name(args.index)}")
        elif args.command == "run":
            cmd = [c for c in args.cmd if c != "--"]
            if not cmd:
                print("error: run needs a command", file=sys.stderr)
                return 2
            return subprocess.call(cmd, env=_env(credentials()))
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
