"""`cointrader model list|promote|rollback`: the manual promotion path over the MLflow registry.

Offered by `cointrader` through the `cointrader.commands` entry point. MLflow is written only by
`cointrader_pipelines.tracking` (STYLE 2.2), imported inside the functions; importing this module pulls in neither
MLflow nor Dagster. Every promotion and rollback is recorded in
MLflow with its reason and evidence (version tags + a run in the `cointrader-registry` experiment).
"""

from __future__ import annotations

import argparse
import sys

_URI_HELP = "MLflow tracking/registry URI (default: $MLFLOW_TRACKING_URI or sqlite:///mlruns/mlflow.db)"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `model` command group to the root parser."""
    model = subparsers.add_parser(
        "model",
        help="list, promote or roll back filter-model versions in the MLflow registry",
        description=(
            "Registered models are named cointrader-filter-<SYMBOL>; the runtime serves alias `champion`, new "
            "versions get alias `challenger`. `promote` moves `champion` to a version whose promotion gate passed "
            "(or any version with --force); `rollback` moves it back to the previous champion."
        ),
    )
    actions = model.add_subparsers(dest="model_command", metavar="ACTION", required=True)

    lst = actions.add_parser("list", help="show the versions of a symbol's model, their aliases and gate results")
    _common(lst)
    lst.set_defaults(func=cmd_list)

    pro = actions.add_parser("promote", help="make VERSION the champion")
    _common(pro)
    pro.add_argument("--version", required=True, help="model version to promote, e.g. 3")
    pro.add_argument("--reason", required=True, help="why (recorded with the event)")
    pro.add_argument("--force", action="store_true", help="promote although the recorded gate did not pass")
    pro.set_defaults(func=cmd_promote)

    rb = actions.add_parser("rollback", help="restore the previous champion (or --to-version)")
    _common(rb)
    rb.add_argument("--to-version", help="version to restore (default: the champion before the current one)")
    rb.add_argument("--reason", required=True, help="why (recorded with the event)")
    rb.set_defaults(func=cmd_rollback)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--symbol", required=True, help="traded symbol, e.g. XRPUSDT")
    parser.add_argument("--tracking-uri", help=_URI_HELP)


def _registry(args: argparse.Namespace):  # -> (Registry, model name)
    from cointrader_pipelines.tracking.registry import Registry
    from cointrader_pipelines.tracking.runs import MlflowTracker
    from trader_runtime.cli import validation as check
    from trader_runtime.config import load_runtime_settings
    from trader_runtime.errors import ConfigError

    settings = load_runtime_settings()
    symbol = check.symbol("--symbol", args.symbol)
    for version_flag in ("version", "to_version"):
        value = getattr(args, version_flag, None)
        if value is not None and not (str(value).isdigit() and int(value) > 0):
            raise ConfigError(f"--{version_flag.replace('_', '-')}={value!r} must be a positive version number")
    flag = "--tracking-uri" if args.tracking_uri else "MLFLOW_TRACKING_URI"
    uri = check.tracking_uri(flag, args.tracking_uri or settings.mlflow_tracking_uri, must_exist=True)
    name = settings.model_name.format(symbol=symbol)
    return Registry(MlflowTracker(uri, "mlruns/artifacts", "http://127.0.0.1:5000")), name


def cmd_list(args: argparse.Namespace) -> int:
    registry, name = _registry(args)
    versions = registry.versions(name)
    if not versions:
        print(f"{name}: no versions registered")
        return 1
    for row in versions:
        aliases = ",".join(row["aliases"]) or "-"
        print(f"{name} v{row['version']:<4} aliases {aliases:<22} gate {row['gate']:<6} created {row['created']}")
    return 0


def cmd_promote(args: argparse.Namespace) -> int:
    from cointrader_pipelines.promotion import promote_manually
    from trader_runtime.errors import ModelUnavailable

    registry, name = _registry(args)
    try:
        ref = promote_manually(registry, name, str(args.version), args.reason, args.force)
    except ModelUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{name} v{ref.version} is now champion (event recorded in run {ref.run_id})")
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    from trader_runtime.errors import ModelUnavailable

    registry, name = _registry(args)
    try:
        ref = registry.rollback(name, reason=args.reason, actor="manual", to_version=args.to_version)
    except ModelUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{name}: champion rolled back to v{ref.version} (event recorded in run {ref.run_id})")
    return 0
