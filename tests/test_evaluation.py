"""Metrics on cases whose answer is known: identical data, broken dependence, copies, noise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from acacia.data.portfolio import Portfolio
from acacia.evaluation.detection import detection_score
from acacia.evaluation.evaluate import evaluate
from acacia.evaluation.features import analysis_table
from acacia.evaluation.fidelity import (
    column_pair_trends,
    column_shapes,
    ks_complement,
    missingness_similarity,
    tv_complement,
)
from acacia.evaluation.privacy import dcr_metrics
from acacia.evaluation.utility import tstr
from conftest import make_tiny_portfolio

CFG = {"seed": 0, "max_rows": 400, "detection_folds": 3, "lightgbm": {"n_estimators": 30}}


@pytest.fixture(scope="module")
def real():
    return make_tiny_portfolio(n=600, seed=1)


@pytest.fixture(scope="module")
def fresh():
    """Another draw from the same generating process: what a perfect generator would give."""
    return make_tiny_portfolio(n=600, seed=2)


def test_ks_and_tv_by_hand():
    assert ks_complement(np.array([1.0, 2, 3, 4]), np.array([3.0, 4, 5, 6])) == pytest.approx(0.5)
    assert ks_complement(np.array([1.0, np.nan]), np.array([1.0])) == 1.0
    assert tv_complement(np.array(["a", "a", "b", "b"]), np.array(["a", "b", "b", "b"])) == pytest.approx(0.75)
    a = pd.DataFrame({"x": [1.0, None, 3.0, 4.0]})
    assert missingness_similarity(a, pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})) == pytest.approx(0.75)


def test_identical_data_scores_one(real):
    tab, kinds = analysis_table(real)
    assert all(v == pytest.approx(1.0) for v in column_shapes(tab, tab, kinds).values())
    assert all(v == pytest.approx(1.0) for v in column_pair_trends(tab, tab, kinds).values())


def test_shuffled_columns_keep_shapes_and_lose_trends(real):
    tab, kinds = analysis_table(real)
    rng = np.random.default_rng(0)
    shuffled = pd.DataFrame({c: tab[c].to_numpy()[rng.permutation(len(tab))] for c in tab.columns})
    assert np.mean(list(column_shapes(tab, shuffled, kinds).values())) == pytest.approx(1.0)
    pair = column_pair_trends(tab, shuffled, kinds)["heating_energy|kwh_mean"]
    assert pair < 0.9
    assert np.mean(list(column_pair_trends(tab, shuffled, kinds).values())) < 0.95


def test_detection_of_a_fresh_sample_is_near_chance_and_noise_is_caught(real, fresh):
    tab, kinds = analysis_table(real)
    other, _ = analysis_table(fresh)
    for model in ("logistic", "lightgbm"):
        d = detection_score(tab, other, kinds, model=model, folds=3, seed=0, lightgbm={"n_estimators": 30})
        assert abs(d["auc"] - 0.5) < 0.1 and d["score"] > 0.8, (model, d)
    noise = other.copy()
    noise["kwh_mean"] = np.random.default_rng(0).uniform(0, 1000, len(noise))
    noise["household_size"] = 99
    d = detection_score(tab, noise, kinds, model="lightgbm", folds=3, seed=0, lightgbm={"n_estimators": 30})
    assert d["score"] < 0.05


def test_dcr_flags_copies_and_not_fresh_samples(real, fresh):
    tab, kinds = analysis_table(real)
    half = len(tab) // 2
    train, holdout = tab.iloc[:half], tab.iloc[half:]
    leaky, _ = dcr_metrics(train, holdout, train.copy(), kinds)
    assert leaky["dcr_share"] > 0.95 and leaky["exact_match_rate"] == 1.0
    other, _ = analysis_table(fresh)
    ok, dist = dcr_metrics(train, holdout, other.iloc[:half], kinds)
    assert abs(ok["dcr_share"] - 0.5) < 0.1 and ok["exact_match_rate"] == 0.0
    assert set(dist.source) == {"synthetic", "holdout"}


def test_tstr_on_a_copy_equals_trtr(real):
    tab, kinds = analysis_table(real)
    train, test = tab.iloc[:400], tab.iloc[400:]
    u = tstr(train.copy(), train, test, "financial_ease", kinds, seed=0, params={"n_estimators": 30})
    assert u["tstr_auc"] == pytest.approx(u["trtr_auc"]) and u["tstr_ratio"] == pytest.approx(1.0)
    # A synthetic set missing a class must not crash: the class gets probability 0.
    one_class = train[train.financial_ease == "ok"]
    u = tstr(one_class, train, test, "financial_ease", kinds, seed=0, params={"n_estimators": 30})
    assert u["tstr_auc"] == pytest.approx(0.5)


def test_evaluate_returns_flat_floats_and_plot_tables(real, fresh):
    ids = real.ids.to_numpy()
    train, holdout, test = (real.subset(ids[a:b]) for a, b in ((0, 250), (250, 500), (500, 600)))
    metrics, plots = evaluate(train, holdout, test, fresh, CFG)
    assert all(v is None or isinstance(v, float) for v in metrics.values())
    for key in ("fidelity.shape_mean", "fidelity.trend_mean", "detection.logistic", "detection.lightgbm",
                "privacy.dcr_share", "utility.financial_ease.tstr_auc"):
        assert isinstance(metrics[key], float), key
    assert set(plots) == {"shapes", "dcr", "profile"}
    assert len(plots["profile"]) == real.schema.series.n_periods


def test_series_features_ignore_missing_periods():
    p = make_tiny_portfolio(n=50, seed=0)
    tab, _ = analysis_table(p)
    late = p.series_matrix()[:5]
    assert np.isnan(late[:, 0]).all()
    assert tab.loc[:4, "kwh_mean"].notna().all()
    assert (tab.loc[:4, "missing_share"] > 0).all()
    assert isinstance(p, Portfolio)
