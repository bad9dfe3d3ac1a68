import numpy as np
import pandas as pd
import pytest

from trader_runtime.errors import DataError
from trader_runtime.ml.splits import holdout_split, train_mask, walk_forward_folds


def sparse_dataset(rows: np.ndarray) -> pd.DataFrame:
    """Dataset-like frame whose samples sit on the given candle positions (gaps between samples)."""
    t0 = pd.Timestamp("2025-01-01", tz="UTC")
    return pd.DataFrame({"timestamp": t0 + pd.to_timedelta(rows * 15, unit="min"), "row": rows})


@pytest.mark.parametrize("n_folds", [1, 2, 3, 5, 7])
def test_exactly_the_requested_number_of_folds(dataset, n_folds):
    folds = walk_forward_folds(dataset, n_folds)
    assert [f.fold for f in folds] == list(range(1, n_folds + 1))
    # contiguous validation blocks covering the last 40 % of the candle span
    assert all(a.val_end_row == b.val_start_row for a, b in zip(folds, folds[1:]))
    assert folds[-1].val_end_row == dataset["row"].iloc[-1] + 1


@pytest.mark.parametrize("lookahead", [0, 24, 96])
def test_no_training_label_window_reaches_validation(dataset, lookahead):
    rows = dataset["row"].to_numpy()
    for f in walk_forward_folds(dataset, 5, lookahead=lookahead):
        train_rows, val_rows = rows[f.train_index], rows[f.val_index]
        assert train_rows.max() + lookahead < f.val_start_row <= val_rows.min()
        assert val_rows.max() < f.val_end_row
        # the purge removes every sample whose window [t+1, t+lookahead] touches the block, and only those
        kept = rows[(rows < f.val_start_row) & (rows + lookahead < f.val_start_row)]
        assert np.array_equal(train_rows, kept)
        assert f.embargo_end_row == f.val_end_row + lookahead


def test_purge_is_counted_in_candles_not_dataset_rows():
    # one sample every 10 candles: a 24-candle purge removes 3 samples, a 24-row purge would remove 24
    ds = sparse_dataset(np.arange(0, 10_000, 10))
    f = walk_forward_folds(ds, 2, lookahead=24)[0]
    rows = ds["row"].to_numpy()
    assert f.val_start_row == 5995  # round(0.6 * 9991 candles)
    assert rows[f.train_index].max() == 5970  # 5970 + 24 < 5995; 5980 and 5990 reach the block
    assert np.setdiff1d(rows[rows < 6000], rows[f.train_index]).tolist() == [5980, 5990]


def test_embargo_rule_excludes_rows_right_after_validation():
    rows = np.arange(100)
    mask = train_mask(rows, 40, 60, lookahead=5, embargo=5)
    assert mask[:35].all() and not mask[35:65].any() and mask[65:].all()


def test_too_many_folds_is_an_error_not_fewer_folds():
    ds = sparse_dataset(np.arange(0, 2000, 50))  # 40 samples
    with pytest.raises(DataError, match="fold"):
        walk_forward_folds(ds, 30)


@pytest.mark.parametrize("kw", [{"n_folds": 0}, {"train_fraction": 1.0}, {"lookahead": -1}])
def test_bad_geometry_arguments(dataset, kw):
    with pytest.raises(DataError):
        walk_forward_folds(dataset, **{"n_folds": 5, **kw})


def test_rows_must_be_chronological(dataset):
    with pytest.raises(DataError, match="chronological"):
        walk_forward_folds(dataset.iloc[::-1], 3)
    with pytest.raises(DataError, match="'row'"):
        walk_forward_folds(dataset.drop(columns="row"), 3)


def test_holdout_split_purges_before_the_tail(dataset):
    split = holdout_split(dataset, 0.2, lookahead=24)
    rows = dataset["row"].to_numpy()
    assert rows[split.train_index].max() + 24 < split.val_start_row <= rows[split.val_index].min()
    assert split.val_index[-1] == len(dataset) - 1


def test_non_expanding_layout_embargoes_candles_after_validation():
    ds = sparse_dataset(np.arange(0, 1000, 2))
    f = walk_forward_folds(ds, 2, lookahead=10, expanding=False)[0]
    rows = ds["row"].to_numpy()
    after = rows[f.train_index][rows[f.train_index] >= f.val_start_row]
    # the first sample at or past the end of the 10-candle embargo (samples sit every 2 candles)
    assert f.val_end_row + 10 <= after.min() < f.val_end_row + 12
    assert rows[f.train_index][rows[f.train_index] < f.val_start_row].max() + 10 < f.val_start_row
