"""`cointrader demo`: materialise the whole asset graph for one symbol on the synthetic market, then summarise.

Runs in-process against the persistent Dagster instance in $DAGSTER_HOME (default `.dagster_home/`, the same one
`make ui` opens), so the run, its materialisations and checks are in the UI afterwards; MLflow uses the configured
store (default under `mlruns/`). Market data goes to `demo.duckdb` beside the configured warehouse, never into the
warehouse itself, so synthetic rows never sit beside a user's real data. Progress is printed per asset and check.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import time
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from cointrader_pipelines.run_recovery import prepare_in_process_run
from cointrader_pipelines.settings import PipelineSettings, get_settings

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class DemoOptions:
    symbol: str = "XRPUSDT"
    days: int = 150
    trials: int = 6
    train_months: int = 2
    test_months: int = 1
    auto_promote: bool = True


def dagster_instance() -> dg.DagsterInstance:
    """The instance in $DAGSTER_HOME (default `.dagster_home/`), created with a copy of the repository's
    deploy/dagster/dagster.yaml when the folder has none."""
    home = Path(os.environ.get("DAGSTER_HOME") or ".dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    template = REPO_ROOT / "deploy" / "dagster" / "dagster.yaml"
    if template.exists() and not (home / "dagster.yaml").exists():
        shutil.copy(template, home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    return dg.DagsterInstance.get()


def demo_run_config(options: DemoOptions) -> dict[str, Any]:
    window = {"train_months": options.train_months, "test_months": options.test_months}
    return {"loggers": {"console": {"config": {"log_level": "WARNING"}}}, "ops": {
        "tuned_params": {"config": {"n_trials": options.trials}},
        "strategy_sweep": {"config": window},
        "ml_comparison": {"config": window},
        "registered_model": {"config": {"auto_promote": options.auto_promote}},
    }}


def demo_definitions(settings: PipelineSettings) -> dg.Definitions:
    """The code location's definitions with resources bound to `settings`."""
    from cointrader_pipelines.definitions import defs
    from cointrader_pipelines.defs.resources import build_resources

    base = defs()
    return dg.Definitions(assets=base.assets, asset_checks=base.asset_checks, jobs=base.jobs,
                          resources=build_resources(settings))


class Progress:
    """Prints each materialisation, check and failure of one run as it happens."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def __call__(self, entry: Any) -> None:
        event = entry.dagster_event
        if event is None:
            return
        stamp = f"[{time.perf_counter() - self.started:6.1f}s]"
        if event.event_type_value == "ASSET_MATERIALIZATION":
            print(f"{stamp} materialized {event.asset_key.to_user_string()}", flush=True)
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            print(f"{stamp}   check {data.check_name}: {'passed' if data.passed else 'FAILED'}", flush=True)
        elif event.event_type_value == "STEP_FAILURE":
            print(f"{stamp} FAILED {event.step_key}: {event.event_specific_data.error.message.strip()}", flush=True)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "inf" if math.isinf(value) else f"{value:.3f}"
    return str(value)


def _report_lines(result: dg.ExecuteInProcessResult) -> list[str]:
    """Where the weekly report landed (its asset returns a MaterializeResult, so read the event metadata)."""
    for mat in result.asset_materializations_for_node("weekly_report"):
        meta = mat.metadata
        date = getattr(meta.get("report_date"), "value", meta.get("report_date"))
        status = getattr(meta.get("status"), "value", meta.get("status"))
        html = getattr(meta.get("html_report"), "path", None)
        return [f"  weekly report {date} ({status}): {html}"]
    return []


def summary_lines(result: dg.ExecuteInProcessResult, settings: PipelineSettings, seconds: float,
                  symbol: str = "XRPUSDT") -> list[str]:
    reg = result.output_for_node("registered_model")
    wf = result.output_for_node("walk_forward_validation").metrics()
    cmp = result.output_for_node("ml_comparison")
    tuned = result.output_for_node("tuned_params")
    off, on = cmp.comparison.ml_off.summary, cmp.comparison.ml_on.summary
    lines = [
        f"Done in {seconds:.0f}s. Model {reg['model']} version {reg['version']} -> alias {' + '.join(reg['aliases'])}",
        *gate_lines(reg["gate"]),
        f"  tuning: {'adopted tuned params' if tuned.adopted else 'kept active params'} ({tuned.reason})",
        f"  walk-forward ({wf['n_folds']} folds): AUC signal rows {_fmt(wf['mean_auc_signal'])} "
        f"± {_fmt(wf['std_auc_signal'])}, all rows {_fmt(wf['mean_auc_all'])}, precision {_fmt(wf['mean_precision'])}",
        f"  ML off: {off['total_trades']} trades, PF {_fmt(float(off['profit_factor']))}, "
        f"return {_fmt(float(off['return_pct']))}%",
        f"  ML on:  {on['total_trades']} trades, PF {_fmt(float(on['profit_factor']))}, "
        f"return {_fmt(float(on['return_pct']))}%  -> {cmp.comparison.verdict}",
        f"  ablation A->C AUC drop {_fmt(cmp.ablation.drop)} ({cmp.ablation.verdict})",
        *_report_lines(result),
        "",
        f"  Dagster UI:  make ui         -> {settings.dagster_ui_url} (DAGSTER_HOME={os.environ.get('DAGSTER_HOME')})",
        f"  MLflow UI:   make mlflow-ui  -> {reg['url']}",
        "",
        champion_line(reg, symbol),
    ]
    return lines


def gate_lines(gate: dict[str, Any]) -> list[str]:
    """The promotion gate as a reader needs it: the verdict, then every rule with its value and threshold."""
    lines = [f"  promotion gate: {'passed' if gate['passed'] else 'failed'}"]
    for rule in gate.get("rules", []):
        lines.append(f"    {'passed' if rule['passed'] else 'failed'}  {rule['name']}: {rule['message']}")
    return lines


def champion_line(reg: dict[str, Any], symbol: str) -> str:
    """One line: which version the trader would serve, or the command that makes one."""
    if "champion" in reg["aliases"]:
        return f"Champion: {reg['model']} version {reg['version']} (the trader serves it with ML_MODE=shadow or on)."
    why = "automatic promotion is off" if reg["gate"]["passed"] else "the promotion gate failed"
    if reg.get("previous_champion"):
        return (f"Champion unchanged: version {reg['previous_champion']}; version {reg['version']} stays challenger "
                f"because {why}.")
    promote = f"cointrader model promote --symbol {symbol} --version {reg['version']} --reason \"demo\""
    if not reg["gate"]["passed"]:
        promote += " --force"
    return f"No champion yet ({why}); to make this version the champion anyway: {promote}"


def demo_warehouse(settings: PipelineSettings) -> Path:
    """The demo's own store beside the configured warehouse: synthetic rows never land in the user's real data."""
    return settings.warehouse_path.with_name("demo.duckdb")


def run_demo(options: DemoOptions) -> int:
    """Materialise everything for `options.symbol`; print progress and the summary; 0 on success."""
    configured = get_settings()
    settings = configured.model_copy(update={"market_source": "synthetic", "synthetic_days": options.days,
                                             "warehouse_path": demo_warehouse(configured)})
    if options.symbol not in settings.symbol_list:
        print(f"error: {options.symbol} is not a configured symbol (SYMBOLS={settings.symbols})")
        return 2
    for noisy in ("mlflow", "alembic", "optuna"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    warnings.filterwarnings("ignore", category=dg.PreviewWarning)
    instance = dagster_instance()
    tags, recovered = prepare_in_process_run(instance)  # a killed earlier run never blocks this one
    for line in recovered.lines():
        print(line)
    job = demo_definitions(settings).resolve_job_def("main_job")
    run_id = str(uuid.uuid4())
    progress = Progress()
    instance.add_event_listener(run_id, progress)
    print(f"Materialising the asset graph for {options.symbol} on {options.days} days of synthetic market "
          f"({options.trials} Optuna trials); Dagster run {run_id}; market data in {settings.warehouse_path} "
          "(the demo's own store, never your real warehouse)")
    result = job.execute_in_process(partition_key=options.symbol, instance=instance, run_id=run_id, tags=tags,
                                    run_config=demo_run_config(options), raise_on_error=False)
    seconds = time.perf_counter() - progress.started
    if not result.success:
        print(f"Run failed after {seconds:.0f}s; see the messages above or the run in the Dagster UI.")
        return 1
    print("\n".join(summary_lines(result, settings, seconds, options.symbol)))
    return 0
