"""Trials of one study spread over processes: shares, and the storage it needs."""

from __future__ import annotations

import pytest

from trader_runtime.errors import ConfigError
from trader_runtime.ml.shared_study import trial_shares
from trader_runtime.ml.tuning import tune_params


def test_trial_shares_cover_every_trial_and_give_no_process_nothing():
    assert trial_shares(7, 2) == [4, 3]
    assert trial_shares(2, 4) == [1, 1]
    assert trial_shares(5, 1) == [5]
    assert sum(trial_shares(100, 7)) == 100


@pytest.mark.parametrize("storage", [None, "sqlite:///x.db"])
def test_several_processes_need_a_database_server(storage):
    import pandas as pd

    with pytest.raises(ConfigError, match="database server"):
        tune_params(pd.DataFrame(), study_name="s", storage=storage, n_trials=2, n_workers=2)
