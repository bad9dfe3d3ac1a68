"""Pure report assembly and plots for the weekly strategy report and the research assets (no Dagster imports).

Modules: `weekly` (assembly, files, `load_latest_checklist`), `performance` (walk-forward per symbol, pooled
metrics), `alternatives` (PF < 1 sweep), `live` (journal statistics, kill-switch monitoring), `journal_trades`
(read-only journal reader), `trend` (trend and retraining checklist), `context` (market context per fold),
`plots` + `html` (self-contained page), `discord` (summary text), `compare` and `sizing` (research).
"""
