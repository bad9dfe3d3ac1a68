"""The soak (task part 4): days of 15m candles replayed at full speed through the real service while a seeded dice
throws faults from the catalogue at it; every invariant is checked along the way and at the end. CI runs a week;
the full month runs with `-m slow` or `python bench/soak.py`, which prints the figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.faults.soak import SoakConfig, run_soak


def assert_soak(result) -> None:  # noqa: ANN001 - SoakResult
    print("\n" + result.summary())
    assert result.violations == [], result.summary()
    assert result.injected_total >= result.config.days, result.summary()  # the dice did throw
    assert result.survived == result.injected_total
    assert result.trades >= result.config.days // 2, result.summary()
    assert result.candles == result.config.days * 96
    for kind in ("manual close in app", "crash + restart"):  # drawn means done (a manual close waits for a position)
        assert result.injected[kind] >= min(result.drawn[kind], 1), (kind, result.summary())


def test_soak_one_week(tmp_path: Path) -> None:
    assert_soak(run_soak(tmp_path, SoakConfig(days=7)))


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_soak_one_month(tmp_path: Path) -> None:
    assert_soak(run_soak(tmp_path, SoakConfig(days=30)))
