"""Stochastic building blocks: each recursion does what its docstring says."""

from __future__ import annotations

import numpy as np
import pytest

from trader_runtime.market.processes import (
    RANGE,
    TREND_DOWN,
    TREND_UP,
    ar1,
    ar1_filter,
    blend,
    garch_scale,
    halflife_phi,
    mean_reverting_returns,
    regime_path,
    student_t,
)


def test_halflife_phi():
    assert halflife_phi(10) ** 10 == pytest.approx(0.5)


def test_student_t_has_unit_variance_fat_tails_and_is_clipped():
    z = student_t(np.random.default_rng(1), 5.0, 200_000, clip=8.0)
    assert z.std() == pytest.approx(1.0, abs=0.03)
    assert ((z**4).mean() / (z**2).mean() ** 2) > 4  # kurtosis above the normal's 3
    assert np.abs(z).max() <= 8.0


def test_blend_keeps_unit_variance_and_sets_the_common_share():
    rng = np.random.default_rng(2)
    own, common = rng.standard_normal(100_000), rng.standard_normal(100_000)
    mixed = blend(own, common, 0.4)
    assert mixed.std() == pytest.approx(1.0, abs=0.02)
    assert np.corrcoef(mixed, common)[0, 1] ** 2 == pytest.approx(0.4, abs=0.02)


def test_garch_scale_recursion_and_long_run_level():
    z = np.array([0.0, 5.0, 0.0, 0.0])
    h = garch_scale(z, 0.1, 0.8) ** 2
    assert h[0] == 1.0
    assert h[1] == pytest.approx(0.1 + 0.8 * 1.0)
    assert h[2] == pytest.approx(0.1 + (0.1 * 25 + 0.8) * h[1])  # a shock raises the next variance
    long = garch_scale(np.random.default_rng(3).standard_normal(200_000), 0.07, 0.91)
    assert (long**2).mean() == pytest.approx(1.0, abs=0.05)


def test_ar1_is_stationary_with_the_requested_sd_and_memory():
    x = ar1(np.random.default_rng(4).standard_normal(200_000), 0.9, 0.5)
    assert x.std() == pytest.approx(0.5, abs=0.02)
    assert np.corrcoef(x[1:], x[:-1])[0, 1] == pytest.approx(0.9, abs=0.01)
    np.testing.assert_allclose(ar1_filter(np.array([1.0, 0.0, 2.0]), 0.5), [1.0, 0.5, 2.25])


def test_mean_reversion_pulls_back_inside_a_range_only():
    shock = np.array([0.1, 0.0, 0.0, 0.0, 0.0])
    ranging = mean_reverting_returns(np.zeros(5), shock, np.full(5, 0.5))
    np.testing.assert_allclose(ranging, [0.1, -0.05, -0.025, -0.0125, -0.00625])
    trending = mean_reverting_returns(np.full(5, 0.01), shock, np.zeros(5))
    np.testing.assert_allclose(trending, [0.11, 0.01, 0.01, 0.01, 0.01])


def test_regime_path_durations_and_transitions():
    path = regime_path(np.random.default_rng(5), 500_000, range_bars=200, trend_bars=100, trend_to_range=1.0)
    assert set(np.unique(path)) == {RANGE, TREND_UP, TREND_DOWN}
    change = np.flatnonzero(np.diff(path)) + 1
    runs = np.diff(np.concatenate(([0], change, [len(path)])))[1:-1]
    states = path[change[:-1]]
    assert runs[states == RANGE].mean() == pytest.approx(200, rel=0.1)
    assert runs[states != RANGE].mean() == pytest.approx(100, rel=0.1)
    after_trend = path[change][np.isin(path[change - 1], (TREND_UP, TREND_DOWN))]
    assert (after_trend == RANGE).all()  # trend_to_range=1: every trend ends in a range
