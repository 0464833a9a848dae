"""Evaluation metrics on cases whose answer is known: identical data, broken dependence, copies,
fresh samples, noise, and tiny hand-made columns.

The fixture portfolio is built here with pandas (not the simulator) so these tests only move when
the metrics do.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from acacia.data.portfolio import Portfolio
from acacia.data.schema import Column, Schema, SeriesSpec
from acacia.errors import ParamsError
from acacia.evaluation.detection import detection_score
from acacia.evaluation.evaluate import evaluate
from acacia.evaluation.features import (
    Embedding,
    analysis_table,
    labels,
    series_features_from_matrix,
)
from acacia.evaluation.fidelity import (
    _pairwise_pearson,
    column_pair_trends,
    column_shapes,
    ks_complement,
    missingness_similarity,
    tv_complement,
)
from acacia.evaluation.privacy import dcr_metrics
from acacia.evaluation.utility import tstr

LGB = {"n_estimators": 30, "num_leaves": 15}
HEATING = ["electric", "heat_pump", "gas", "wood"]


def make_portfolio(n: int = 400, seed: int = 0, n_periods: int = 20, prefix: str = "C") -> Portfolio:
    """Mixed-type customers with real dependences, and a weekly series from mid-August to
    December (so it has summer and winter weeks) whose level depends on heating and surface."""
    rng = np.random.default_rng(seed)
    heating = rng.choice(HEATING, size=n, p=[0.35, 0.15, 0.4, 0.1])
    size = rng.integers(1, 6, size=n)
    surface = 25 + 18 * size + rng.gamma(4, 8, size=n)
    kva = np.where(surface > 110, 12, np.where(surface > 70, 9, 6)).astype(float)
    surface_obs = np.where(rng.random(n) < 0.1, np.nan, surface.round(1))
    electric = np.isin(heating, ["electric", "heat_pump"])
    ev = pd.array(np.where(rng.random(n) < 0.1, None, rng.random(n) < 0.1 + 0.2 * (surface > 100)),
                  dtype="boolean")
    # Financial ease depends on surface and heating: learnable, so TSTR/TRTR mean something.
    score = 0.02 * (surface - 90) + 0.8 * (heating == "heat_pump") + rng.normal(0, 0.7, n)
    fe = np.where(score > 0.6, "comfortable", np.where(score > -0.6, "ok", "difficult")).astype(object)
    fe[rng.random(n) < 0.05] = None
    customers = pd.DataFrame(
        {
            "customer_id": [f"{prefix}{seed}-{i:05d}" for i in range(n)],
            "heating_energy": pd.Series(heating, dtype="str"),
            "surface_m2": surface_obs,
            "subscribed_kva": kva,
            "household_size": pd.array(size, dtype="Int64"),
            "ev": ev,
            "contract_start": pd.Timestamp("2005-01-01")
            + pd.to_timedelta(rng.integers(0, 5000, size=n), unit="D"),
            "financial_ease": pd.Series(fe, dtype="str"),
        }
    )
    schema = Schema(
        columns=[
            Column("customer_id", "id"),
            Column("heating_energy", "categorical", categories=HEATING),
            Column("surface_m2", "numerical", nullable=True, min=0),
            Column("subscribed_kva", "numerical"),
            Column("household_size", "integer", min=1, max=8),
            Column("ev", "boolean", nullable=True),
            Column("contract_start", "date"),
            Column("financial_ease", "categorical", nullable=True, target=True,
                   categories=["difficult", "ok", "comfortable"]),
        ],
        series=SeriesSpec(frequency="weekly", start="2019-08-19", n_periods=n_periods),
    )
    months = schema.series.periods.month.to_numpy()
    cold = np.isin(months, [11, 12, 1, 2]).astype(float) + 0.5 * (months == 10)
    level = (2 + 0.08 * surface) * np.where(electric, 2.0, 1.0) * rng.lognormal(0, 0.2, n)
    mat = level[:, None] * (1 + 1.5 * cold[None, :] * electric[:, None])
    mat *= rng.lognormal(0, 0.1, size=mat.shape)
    late = rng.random(n) < 0.1
    mat[late, : n_periods // 4] = np.nan
    consumption = Portfolio.consumption_from_matrix(customers["customer_id"], mat, schema)
    return Portfolio(customers, consumption, schema).validate("test fixture")


@pytest.fixture(scope="module")
def real() -> Portfolio:
    return make_portfolio(n=400, seed=1)


@pytest.fixture(scope="module")
def fresh() -> Portfolio:
    """Another draw of the same process: what a perfect generator would produce."""
    return make_portfolio(n=400, seed=2)


@pytest.fixture(scope="module")
def tables(real, fresh):
    tab, kinds = analysis_table(real)
    other, _ = analysis_table(fresh)
    return tab, other, kinds


def _shuffle_columns(df: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Every column permuted independently: same marginals, no dependence left."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({c: df[c].iloc[rng.permutation(len(df))].to_numpy() for c in df.columns})


def _noise(df: pd.DataFrame, kinds: dict[str, str], seed: int = 0) -> pd.DataFrame:
    """What an untrained generator emits: standard-normal numbers (in raw units), random levels,
    random dates."""
    rng = np.random.default_rng(seed)
    out = {}
    for c, k in kinds.items():
        if k in ("categorical", "boolean"):
            out[c] = pd.Series(rng.choice(df[c].dropna().unique(), len(df)))
        elif k == "date":
            out[c] = pd.Timestamp("1990-01-01") + pd.to_timedelta(rng.integers(0, 20000, len(df)), unit="D")
        else:
            out[c] = rng.normal(size=len(df))
    return pd.DataFrame(out)


# --------------------------------------------------------------------------- analytical checks
def test_ks_and_tv_by_hand():
    # ECDFs differ most at 2: 0.5 vs 0 → KS = 0.5.
    assert ks_complement(np.array([1.0, 2, 3, 4]), np.array([3.0, 4, 5, 6])) == pytest.approx(0.5)
    assert ks_complement(np.array([1.0, 2, 3]), np.array([4.0, 5])) == pytest.approx(0.0)
    # NaN are ignored by KS (missingness is scored apart); all-null on one side only → 0.
    assert ks_complement(np.array([1.0, np.nan]), np.array([1.0])) == 1.0
    assert ks_complement(np.array([np.nan]), np.array([1.0])) == 0.0
    # a: 1/2, b: 1/2 vs a: 1/4, b: 3/4 → TVD = 0.25.
    assert tv_complement(np.array(["a", "a", "b", "b"]), np.array(["a", "b", "b", "b"])) == pytest.approx(0.75)


def test_shapes_treat_null_as_a_level_for_categories_only():
    kinds = {"cat": "categorical", "x": "numerical", "d": "date", "flag": "boolean"}
    real = pd.DataFrame({"cat": ["a", None, "a", "b"], "x": [1.0, 2.0, np.nan, 3.0],
                         "d": pd.to_datetime(["2020-01-01", "2020-01-02", None, "2020-01-03"]),
                         "flag": pd.array([True, False, None, True], dtype="boolean")})
    syn = pd.DataFrame({"cat": ["a", "a", "a", "b"], "x": [1.0, 2.0, 3.0, 3.0],
                        "d": pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-03", None]),
                        "flag": [True, False, True, True]})
    s = column_shapes(real, syn, kinds)
    assert s["cat"] == pytest.approx(0.75)  # null 1/4 vs 0, a 2/4 vs 3/4
    assert s["x"] == pytest.approx(1 - 1 / 6)  # {1,2,3} vs {1,2,3,3}: at 2, 2/3 vs 1/2
    assert s["d"] == pytest.approx(1.0)  # same non-null dates
    assert s["flag"] == pytest.approx(0.75)
    assert missingness_similarity(real, syn) == pytest.approx(1 - (0.25 + 0.25 + 0 + 0.25) / 4)


def test_pair_trends_by_hand():
    kinds = {"a": "numerical", "b": "numerical", "c": "categorical"}
    x = np.arange(10.0)
    real = pd.DataFrame({"a": x, "b": x, "c": ["u"] * 5 + ["v"] * 5})
    syn = pd.DataFrame({"a": x, "b": -x, "c": ["u"] * 10})
    t = column_pair_trends(real, syn, kinds)
    assert t["a|b"] == pytest.approx(0.0)  # ρ = 1 vs −1
    # Equal-width bins over 0..9 put one value per bin: joint (a, c) matches on the 5 'u' rows.
    assert t["a|c"] == pytest.approx(0.5)
    # A constant column has no correlation: the pair falls back to contingency similarity.
    t = column_pair_trends(real.assign(b=1.0), syn.assign(b=1.0), kinds)
    assert t["a|b"] == pytest.approx(1.0)


def test_pairwise_pearson_matches_pandas_on_missing_values():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 5)) @ rng.normal(size=(5, 5)) * [1, 1e3, 1e-2, 5, 1] + [0, 1e6, 0, 0, 7]
    x[rng.random(x.shape) < 0.2] = np.nan
    np.testing.assert_allclose(_pairwise_pearson(x), pd.DataFrame(x).corr().to_numpy(), atol=1e-9)


def test_series_features_by_hand():
    spec = SeriesSpec(frequency="weekly", start="2019-08-19", n_periods=20)
    months = spec.periods.month.to_numpy()
    flat = np.full(20, 10.0)
    seasonal = np.where(months == 12, 30.0, np.where(months == 8, 10.0, 20.0))
    late = flat.copy()
    late[:5] = np.nan
    trend = np.arange(20.0) + 1
    feats = series_features_from_matrix(np.vstack([flat, seasonal, late, trend]), spec)
    assert feats["series_mean_kwh"].iloc[0] == pytest.approx(10.0)
    assert feats["series_annual_kwh"].iloc[0] == pytest.approx(10.0 * 365.25 / 7)
    assert feats["series_cv"].iloc[0] == pytest.approx(0.0)
    assert np.isnan(feats["series_acf1"].iloc[0])  # constant: undefined, not 0 or 1
    assert feats["series_winter_summer"].iloc[1] == pytest.approx(3.0)
    assert feats["series_missing_share"].iloc[2] == pytest.approx(0.25)
    assert feats["series_mean_kwh"].iloc[2] == pytest.approx(10.0)  # late periods ignored
    assert feats["series_acf1"].iloc[3] == pytest.approx(1.0)


def test_series_features_in_chunks_are_the_same_numbers(tiny_portfolio, monkeypatch):
    import acacia.evaluation.features as features

    mat, spec = tiny_portfolio.series_matrix(), tiny_portfolio.schema.series
    whole = series_features_from_matrix(mat, spec)
    monkeypatch.setattr(features, "SERIES_CHUNK_ROWS", 7)  # 240 rows: 35 chunks, the last of 2
    pd.testing.assert_frame_equal(series_features_from_matrix(mat, spec), whole, check_exact=True)


def test_series_metrics_in_chunks_are_the_same_numbers(tiny_portfolio, monkeypatch):
    """Row-wise statistics (autocorrelations, degree-day slopes, the detector's features) run in
    blocks of rows at scale; every number must be the one of the whole matrix."""
    import acacia.evaluation.features as features
    from acacia.evaluation.series import series_metrics

    mat, spec = tiny_portfolio.series_matrix(), tiny_portfolio.schema.series
    train, syn, test = mat[:100], mat[100:200] * 1.1, mat[200:]
    zones = np.array(["H1", "H2"] * 50, dtype=object)
    days = pd.date_range(spec.periods[0], periods=7 * spec.n_periods, freq="D")
    temperature = pd.concat([pd.DataFrame({"date": days, "climate_zone": z,
                                           "temperature_c": 10 + 8 * np.cos(np.arange(len(days)) / 9) + k})
                             for k, z in enumerate(["H1", "H2"])], ignore_index=True)
    groups = tiny_portfolio.customers["heating_energy"].to_numpy(dtype=object)

    def run():
        return series_metrics(train, syn, test, spec, groups[:100], groups[100:200], zones, zones,
                              temperature, seed=0, max_rows=None, folds=2, lightgbm={"n_estimators": 5})

    whole, whole_plots = run()
    assert np.isfinite(whole["thermo_error"]) and np.isfinite(whole["acf_distance"])
    monkeypatch.setattr(features, "SERIES_CHUNK_ROWS", 9)
    blocks, block_plots = run()
    assert blocks == pytest.approx(whole, rel=0, abs=0, nan_ok=True)
    for name in whole_plots:
        pd.testing.assert_frame_equal(block_plots[name], whole_plots[name], check_exact=True)


def test_embedding_missing_indicator_and_unseen_levels():
    kinds = {"x": "numerical", "c": "categorical", "d": "date"}
    df = pd.DataFrame({"x": [1.0, 2.0, np.nan, 4.0], "c": ["a", "b", None, "a"],
                       "d": pd.to_datetime(["2020-01-01", None, "2020-01-03", "2020-01-04"])})
    emb = Embedding().fit(df, kinds)
    x = emb.transform(df)
    assert x.dtype == np.float32 and x.shape == (4, len(emb.feature_names_))
    names = emb.feature_names_
    assert x[2, names.index("x")] == 0 and x[2, names.index("x__missing")] == 1
    assert x[2, names.index(f"c={labels(pd.Series([None]))[0]}")] == 1
    other = emb.transform(pd.DataFrame({"x": [1.0], "c": ["zzz"], "d": pd.to_datetime(["2020-01-01"])}))
    assert other[0, names.index("c=__other__")] == 1


# --------------------------------------------------------------------------- known answers
def test_identical_data_is_perfect(tables):
    tab, _, kinds = tables
    assert all(v == pytest.approx(1.0) for v in column_shapes(tab, tab.copy(), kinds).values())
    trends = column_pair_trends(tab, tab.copy(), kinds)
    assert len(trends) == len(kinds) * (len(kinds) - 1) // 2
    assert all(v == pytest.approx(1.0) for v in trends.values())
    d = detection_score(tab, tab.copy(), kinds, model="logistic", folds=3)
    assert abs(d["auc"] - 0.5) < 0.1 and d["score"] > 0.8, d
    # Trees see each held-out row's twin, with the other label, in the training folds and learn
    # "the opposite of me": AUC falls below 0.5, which the max(AUC, 0.5) maps to a perfect score.
    d = detection_score(tab, tab.copy(), kinds, model="lightgbm", folds=3, lightgbm=LGB)
    assert d["auc"] < 0.6 and d["score"] == pytest.approx(1.0), d


def test_fresh_sample_is_near_chance(tables):
    tab, other, kinds = tables
    for model in ("logistic", "lightgbm"):
        d = detection_score(tab, other, kinds, model=model, folds=3, lightgbm=LGB)
        assert abs(d["auc"] - 0.5) < 0.1 and d["score"] > 0.8, (model, d)


def test_shuffled_columns_keep_shapes_and_lose_trends(tables):
    tab, _, kinds = tables
    shuffled = _shuffle_columns(tab)
    assert np.mean(list(column_shapes(tab, shuffled, kinds).values())) == pytest.approx(1.0)
    trends = column_pair_trends(tab, shuffled, kinds)
    assert np.mean(list(trends.values())) < 0.9
    assert trends["surface_m2|household_size"] < 0.75  # ρ ≈ 0.6 in real, ≈ 0 shuffled
    assert trends["heating_energy|series_mean_kwh"] < 0.8
    q = column_pair_trends(tab, shuffled, kinds, binning="quantile")
    assert np.mean(list(q.values())) < 0.9


def test_noise_is_detected(tables):
    tab, _, kinds = tables
    noise = _noise(tab, kinds)
    for model in ("logistic", "lightgbm"):
        d = detection_score(tab, noise, kinds, model=model, folds=3, lightgbm=LGB)
        assert d["score"] < 0.1, (model, d)


def test_dcr_flags_copies_and_not_fresh_samples(tables):
    tab, other, kinds = tables
    train, holdout = tab.iloc[:200], tab.iloc[200:]
    leaky, dist = dcr_metrics(train, holdout, train.copy(), kinds)
    assert leaky["dcr_share"] > 0.95 and leaky["exact_match_rate"] == 1.0
    assert leaky["dcr_p5_syn_train"] == pytest.approx(0.0, abs=1e-6)
    assert set(dist["source"]) == {"synthetic", "holdout"}
    ok, _ = dcr_metrics(train, holdout, other.iloc[:200], kinds)
    assert abs(ok["dcr_share"] - 0.5) < 0.1 and ok["exact_match_rate"] == 0.0
    assert ok["dcr_p5_syn_train"] > 0.5 * ok["dcr_p5_holdout_train"]


def test_tstr_on_a_copy_equals_trtr(tables):
    tab, other, kinds = tables
    train, test = tab.iloc[:250], tab.iloc[250:]
    u = tstr(train.copy(), train, test, "financial_ease", kinds, params=LGB)
    assert u["trtr_auc"] > 0.65  # the fixture's target is learnable
    assert u["tstr_auc"] == pytest.approx(u["trtr_auc"]) and u["tstr_ratio"] == pytest.approx(1.0)
    assert u["tstr_f1"] == pytest.approx(u["trtr_f1"])
    # A synthetic set missing a class must not crash: that class's one-vs-rest AUC is 0.5.
    two = tstr(train[train["financial_ease"] != "difficult"], train, test, "financial_ease", kinds,
               params=LGB)
    assert np.isfinite(two["tstr_auc"]) and two["tstr_auc"] < u["tstr_auc"]
    one = tstr(train[train["financial_ease"] == "ok"], train, test, "financial_ease", kinds, params=LGB)
    assert one["tstr_auc"] == pytest.approx(0.5)
    reg = tstr(other, train, test, "surface_m2", kinds, params=LGB)
    assert reg["trtr_r2"] > 0.5 and reg["tstr_r2"] > 0.5 and 0.7 < reg["tstr_ratio"] < 1.3


def test_evaluate_returns_flat_json_ready_metrics(real, fresh):
    ids = real.ids.to_numpy()
    train, holdout, test = (real.subset(ids[a:b]) for a, b in ((0, 200), (200, 300), (300, 400)))
    cfg = {"seed": 0, "max_rows": 300, "detection_folds": 3, "lightgbm": LGB}
    metrics, plots = evaluate(train, holdout, test, fresh, cfg)
    assert all(v is None or type(v) is float for v in metrics.values())
    json.dumps(metrics, allow_nan=False)
    for key in ("fidelity.shape_mean", "fidelity.trend_mean", "fidelity.missingness",
                "fidelity.alpha_precision", "fidelity.beta_recall", "detection.logistic", "detection.lightgbm", "detection.logistic_auc",
                "detection.logistic_unseen", "detection.lightgbm_unseen", "detection.logistic_unseen_auc",
                "fidelity.shape_mean_unseen", "fidelity.trend_mean_unseen",
                "privacy.dcr_share", "privacy.dcr_p5_syn_train", "privacy.dcr_p5_holdout_train",
                "privacy.exact_match_rate", "utility.financial_ease.tstr_auc",
                "utility.financial_ease.trtr_auc", "utility.financial_ease.tstr_ratio",
                "series.profile_nmae", "n_real", "n_synthetic", "evaluate_seconds"):
        assert isinstance(metrics[key], float), key
    assert metrics["n_real"] == metrics["n_synthetic"] == 200.0  # compared at the same size
    assert metrics["fidelity.shape_mean"] > 0.85 and metrics["detection.logistic"] > 0.7
    assert set(plots) == {"shapes", "dcr", "profile", "anonymeter", "bands", "conditional", "marginals", "pairs",
                          "projection", "timings"}
    assert list(plots["shapes"].columns) == ["column", "kind", "score"]
    assert len(plots["profile"]) == real.schema.series.n_periods
    assert {"period_start", "real_mean", "syn_p90"} <= set(plots["profile"].columns)

    # The holdout scored as a model: privacy then uses the test split as the unseen side.
    ref, _ = evaluate(train, holdout, test, holdout, cfg, synthetic_is_holdout=True)
    assert ref["privacy.exact_match_rate"] == 0.0

    with pytest.raises(ParamsError, match="unknown key"):
        evaluate(train, holdout, test, fresh, {"max_row": 10})


def test_unseen_metrics_read_the_test_split(real):
    """``detection.*_unseen`` and ``fidelity.*_unseen`` compare the portfolio with the test split,
    not the train split: a portfolio that is the test split itself is invisible there and plain to
    see against train."""
    ids = real.ids.to_numpy()
    train, holdout = real.subset(ids[:200]), real.subset(ids[200:300])
    other = make_portfolio(n=200, seed=3, prefix="T")
    shifted = other.customers.assign(surface_m2=other.customers["surface_m2"] * 2)
    test = Portfolio(shifted, other.consumption, other.schema)
    metrics, _ = evaluate(train, holdout, test, test, {"detection_folds": 3, "detectors": ["logistic"]})
    assert metrics["detection.logistic"] < 0.3
    assert metrics["detection.logistic_unseen"] == pytest.approx(1.0)
    assert metrics["fidelity.shape_mean_unseen"] == metrics["fidelity.trend_mean_unseen"] == 1.0
    assert metrics["fidelity.shape_mean"] < 0.95


def test_boolean_labels_ignore_storage_dtype():
    kinds = {"flag": "boolean"}
    real = pd.DataFrame({"flag": pd.array([True, False, None, True], dtype="boolean")})
    syn = pd.DataFrame({"flag": [1.0, 0.0, np.nan, 1.0]})
    assert column_shapes(real, syn, kinds)["flag"] == pytest.approx(1.0)


def test_evaluate_without_series(real, fresh):
    """A plain table (Adult-like schema, no consumption): series metrics and profile are absent."""
    schema = Schema(columns=real.schema.columns, series=None)
    empty = pd.DataFrame(columns=["customer_id", "period_start", "kwh"])

    def table_only(p: Portfolio, rows: slice) -> Portfolio:
        return Portfolio(p.customers.iloc[rows].reset_index(drop=True), empty, schema)

    metrics, plots = evaluate(table_only(real, slice(0, 200)), table_only(real, slice(200, 300)),
                              table_only(real, slice(300, 400)), table_only(fresh, slice(0, 200)),
                              {"detection_folds": 3, "lightgbm": LGB, "detectors": ["logistic"]})
    assert "series.profile_nmae" not in metrics and "detection.lightgbm" not in metrics
    assert isinstance(metrics["fidelity.trend_mean"], float)
    assert plots["profile"].empty and not any(c.startswith("series_") for c in plots["shapes"].column)


def test_feature_importance_agreement():
    from acacia.evaluation.utility import importance_agreement

    gain = np.array([10.0, 5.0, 3.0, 1.0, 0.5, 0.1])
    same = importance_agreement(gain, gain * 2)
    assert same["importance_spearman"] == pytest.approx(1.0) and same["importance_top_overlap"] == 1.0
    rev = importance_agreement(gain[::-1].copy(), gain, top=2)
    assert rev["importance_spearman"] == pytest.approx(-1.0) and rev["importance_top_overlap"] == 0.0
    assert np.isnan(importance_agreement(np.zeros(6), gain)["importance_spearman"])
