"""The weekly report that was just written can be opened and carries its verdict."""

import json
from pathlib import Path

import dagster as dg

from cointrader_pipelines.defs.reports.assets import weekly_report


@dg.asset_check(asset=weekly_report, description=(
    "The newest weekly report's HTML and JSON files exist, the JSON parses and carries the verdict line "
    "(keep / stop / not enough evidence) for the report date shown in the metadata. A partial report passes "
    "with its issues listed; a missing or unreadable file fails."))
def weekly_report_files_readable(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    event = context.instance.get_latest_materialization_event(dg.AssetKey("weekly_report"))
    if event is None or event.asset_materialization is None:
        return dg.AssetCheckResult(passed=False, metadata={"problem": "weekly_report was never materialised"})
    meta = event.asset_materialization.metadata
    paths = {k: Path(getattr(meta.get(k), "path", "") or "") for k in ("html_report", "json_report")}
    missing = [k for k, p in paths.items() if not p.is_file()]
    if missing:
        return dg.AssetCheckResult(passed=False, metadata={"problem": f"missing file(s): {', '.join(missing)}"})
    try:
        data = json.loads(paths["json_report"].read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return dg.AssetCheckResult(passed=False, metadata={"problem": f"the JSON report does not parse: {exc}"})
    verdict = (data.get("verdict") or {}).get("decision")
    ok = verdict in ("keep", "stop", "not enough evidence")
    return dg.AssetCheckResult(passed=ok, metadata={
        "report_date": str(data.get("report_date")), "status": str(data.get("status")), "verdict": str(verdict),
        "issues": len(data.get("issues") or []), "problem": "none" if ok else "the report has no verdict line"})
