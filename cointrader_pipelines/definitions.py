"""Entry point of the code location: everything is discovered under `defs/` (pyproject `[tool.dg]`)."""

from pathlib import Path

import dagster as dg

from cointrader_pipelines.fast_exit import skip_final_collection

skip_final_collection()

#: the definitions the multiprocess executor's forkserver loaded once (`preload.py`); every step process forked from
#: it reuses them instead of rebuilding the whole code location (~0.5 CPU-s a step). None in every other process.
PRELOADED: dg.Definitions | None = None


@dg.definitions
def defs() -> dg.Definitions:
    if PRELOADED is not None:
        return PRELOADED
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
