"""The weekly report that was just written can be opened and carries its verdict.

Evaluated by `weekly_report` on the files it has just written (`check_specs`), not in a step of its own."""

import json
from pathlib import Path

import dagster as dg

REPORT_CHECKS = (
    dg.AssetCheckSpec("weekly_report_files_readable", asset="weekly_report", description=(
        "The newest weekly report's HTML and JSON files exist, the JSON parses and carries the verdict line "
        "(keep / stop / not enough evidence) for the report date shown in the metadata. A partial report passes "
        "with its issues listed; a missing or unreadable file fails.")),
)


def weekly_report_files_readable(html_report: Path, json_report: Path) -> dg.AssetCheckResult:
    def result(passed: bool, **metadata: object) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(check_name="weekly_report_files_readable", passed=passed, metadata=metadata)

    paths = {"html_report": html_report, "json_report": json_report}
    missing = [k for k, p in paths.items() if not p.is_file()]
    if missing:
        return result(False, problem=f"missing file(s): {', '.join(missing)}")
    try:
        data = json.loads(json_report.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return result(False, problem=f"the JSON report does not parse: {exc}")
    verdict = (data.get("verdict") or {}).get("decision")
    ok = verdict in ("keep", "stop", "not enough evidence")
    return result(ok, report_date=str(data.get("report_date")), status=str(data.get("status")), verdict=str(verdict),
                  issues=len(data.get("issues") or []), problem="none" if ok else "the report has no verdict line")
