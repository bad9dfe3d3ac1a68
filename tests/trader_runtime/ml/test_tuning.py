import json

import optuna
import pytest

from trader_runtime.ml.tuning import (
    FoldScore,
    ParamsEvaluation,
    decide_active_params,
    score_folds,
    tune_params,
)

BASE = {"n_estimators": 30, "num_threads": 1}


@pytest.fixture(scope="module")
def storage(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('optuna') / 'studies.db'}"


@pytest.fixture(scope="module")
def tuned(dataset, storage):
    seen = []
    res = tune_params(dataset, study_name="run-a", storage=storage, n_trials=3, n_folds=3, baseline_params=BASE,
                      progress=seen.append)
    return res, seen


def test_three_trials_stored_in_sqlite(tuned, storage):
    res, seen = tuned
    assert len(res.trials) == 3 and res.n_complete == 3  # no pruning before 5 completed trials
    assert [t.number for t in seen] == [0, 1, 2]
    study = optuna.load_study(study_name="run-a", storage=storage)
    assert len(study.trials) == 3 and study.best_value == pytest.approx(res.best.score)


def test_deterministic_by_seed(tuned, dataset, storage):
    res, _ = tuned
    again = tune_params(dataset, study_name="run-b", storage=storage, n_trials=3, n_folds=3, baseline_params=BASE)
    assert [t.params for t in again.trials] == [t.params for t in res.trials]
    assert [t.score for t in again.trials] == [t.score for t in res.trials]
    assert again.baseline == res.baseline


def test_search_space_respects_the_fixes(tuned):
    for t in tuned[0].trials:
        p = t.params
        assert p["max_depth"] >= 3 and 7 <= p["num_leaves"] <= 2 ** p["max_depth"] - 1  # W-10
        assert "subsample" not in p and "weight_scale" not in p  # W-08, W-09
        assert 0.0 <= p["time_weight_decay"] <= 4.0 and p["num_threads"] == 1


def test_baseline_and_trials_are_scored_identically(tuned):
    res, _ = tuned
    for ev in (res.baseline, res.best):
        assert len(ev.folds) == 3
        assert ev.score == pytest.approx(score_folds(ev.folds)[0])
    assert res.baseline.params["n_estimators"] == 30
    assert res.best.score == max(t.score for t in res.trials)
    assert res.improvement == pytest.approx(res.best.score - res.baseline.score)
    json.dumps(res.to_dict(), allow_nan=False)


def test_existing_study_name_needs_resume(dataset, storage, tuned):
    with pytest.raises(optuna.exceptions.DuplicatedStudyError):
        tune_params(dataset, study_name="run-a", storage=storage, n_trials=1, n_folds=3, baseline_params=BASE)


def fold(fold_no, auc, precision, n_pos=10):
    return FoldScore(fold_no, 100, n_pos, auc, True, precision, 0.4, 0.6, n_pos >= 3)


def test_objective_counts_precision_only_on_folds_with_three_positives():
    folds = [fold(1, 0.6, 0.8), fold(2, 0.5, 0.0, n_pos=2), fold(3, 0.7, 0.6)]
    score, auc, precision, _ = score_folds(folds)
    assert precision == pytest.approx(0.7) and auc == pytest.approx(0.6)
    assert score == pytest.approx(0.7 + 0.001 * 0.6)


def evaluation(score, aucs):
    return ParamsEvaluation(score, sum(aucs) / len(aucs), score, 0.4, {}, [fold(i, a, score) for i, a in enumerate(aucs)])


@pytest.mark.parametrize(
    ("best_score", "aucs", "adopt"),
    [
        (0.61, [0.60, 0.62, 0.61], True),  # +0.01 exactly, stable folds
        (0.6099, [0.60, 0.62, 0.61], False),  # improvement too small
        (0.70, [0.50, 0.70, 0.60], False),  # folds too unstable (std 0.082)
    ],
)
def test_decide_active_params(best_score, aucs, adopt):
    d = decide_active_params(evaluation(0.60, [0.6, 0.6, 0.6]), evaluation(best_score, aucs))
    assert d.adopt is adopt and d.reason
    assert d.evidence["improvement"] == pytest.approx(best_score - 0.60)


@pytest.mark.parametrize(("n_folds", "warmup"), [(3, 1), (5, 2), (8, 4)])
def test_pruner_warmup_follows_the_fold_count(n_folds, warmup):
    from trader_runtime.ml.tuning import make_pruner

    assert make_pruner(n_folds)._n_warmup_steps == warmup


def test_results_file_reads_back_as_params(tuned, tmp_path):
    from trader_runtime.ml.params import read_tuned_params, resolve_params

    res, _ = tuned
    path = tmp_path / "tuned.json"
    path.write_text(json.dumps(res.to_dict(), allow_nan=False))
    assert resolve_params(per_symbol=read_tuned_params(path)).params == res.best_params
