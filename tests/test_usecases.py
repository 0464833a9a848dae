"""Use cases (issue 9): heating detection pre-training, financial-ease scoring, longitudinal
studies, and the study metric in the meta-metric. Small in-code data, fixed seeds."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from acacia.data.portfolio import Portfolio
from acacia.data.simulator import SimulatorConfig, simulate_portfolio, temperature
from acacia.errors import DataError, ParamsError
from acacia.evaluation.metametric import meta_metric
from acacia.evaluation.series import degree_days
from acacia.usecases import financial_ease, heating_detection, longitudinal
from conftest import make_tiny_portfolio

HEAT = {"label": "heating_energy", "positive": ["electric_direct", "heat_pump"], "n_values": [30, "all"],
        "repeats": 2, "cnn": {"channels": 4, "pretrain": {"max_epochs": 4, "patience": 2},
                              "finetune": {"max_epochs": 3, "patience": 2}},
        "lightgbm": {"params": {"n_estimators": 20}, "finetune_estimators": 10}}


def _shuffled_labels(p: Portfolio, column: str, seed: int) -> Portfolio:
    c = p.customers.copy()
    c[column] = c[column].sample(frac=1.0, random_state=seed).to_numpy()
    return Portfolio(c, p.consumption, p.schema)


@pytest.fixture(scope="module")
def tiny_splits() -> tuple[Portfolio, Portfolio, Portfolio]:
    return (make_tiny_portfolio(160, 16, seed=0), make_tiny_portfolio(120, 16, seed=1),
            make_tiny_portfolio(160, 16, seed=2))


def test_heating_learning_curve_is_deterministic_and_pretraining_transfers(tiny_splits):
    train, test, good = tiny_splits
    sources = {"good": good, "noise": _shuffled_labels(good, "heating_energy", 0)}
    curve = heating_detection.learning_curve(train, test, sources, HEAT)
    again = heating_detection.learning_curve(train, test, sources, HEAT)
    pd.testing.assert_frame_equal(curve, again)
    # sizes capped by the 160 real customers; "all" drawn once, 30 drawn twice
    assert sorted(curve["n"].unique()) == [30, 160]
    assert set(curve["source"]) == {"real_only", "good", "noise"} and set(curve["learner"]) == {"cnn", "lightgbm"}
    assert (curve[curve["n"] == 30].groupby(["learner", "source"]).size() == 2).all()
    agg, m = heating_detection.summarise(curve)
    assert m["small_n"] == 30 and m["all_n"] == 160
    for learner in ("cnn", "lightgbm"):
        gain = m[f"{learner}.good.auc_gain_small_n"]
        assert gain == pytest.approx(m[f"{learner}.good.auc_small_n"] - m[f"{learner}.real_only.auc_small_n"])
    # The series separate electric heating well: a clean source transfers, random labels do not.
    assert m["lightgbm.real_only.auc_all"] > 0.9
    assert m["lightgbm.good.auc_small_n"] > 0.9
    assert m["lightgbm.good.auc_small_n"] > m["lightgbm.noise.auc_small_n"] + 0.1
    assert m["cnn.good.auc_small_n"] > m["cnn.noise.auc_small_n"]


def test_heating_config_errors_name_the_key(tiny_splits):
    train, test, _ = tiny_splits
    with pytest.raises(ParamsError, match=r"usecases\.heating_detection\.n_values"):
        heating_detection.config({"n_values": [0, "everything"]})
    with pytest.raises(ParamsError, match=r"usecases\.heating_detection\.cnn: unknown key"):
        heating_detection.config({"cnn": {"layers": 3}})
    with pytest.raises(DataError, match="label column 'electric_heating'"):
        heating_detection.learning_curve(train, test, {}, {"n_values": [10]})
    assert heating_detection.resolve_n([100, 300, "all", 5000], 240) == [100, 240]


def test_financial_ease_on_a_copy_of_real_matches_trtr(tiny_splits):
    train, test, other = tiny_splits
    cfg = {"features": ["heating_energy", "surface_m2", "household_size", "series_mean_kwh", "series_cv"],
           "lightgbm": {"n_estimators": 20}}
    m, cal, imp = financial_ease.score(train, test, {"copy": train, "other": other}, cfg)
    # Trained on the same rows with the same seed: the same model as TRTR.
    assert m["copy.tstr_auc"] == pytest.approx(m["trtr.auc"]) and m["copy.tstr_ratio"] == pytest.approx(1.0)
    assert m["copy.importance_spearman"] == pytest.approx(1.0) and m["copy.importance_top_overlap"] == 1.0
    assert 0 <= m["other.ece"] <= 1 and np.isfinite(m["other.tstr_auc"])
    n_test = int(test.customers["financial_ease"].notna().sum())
    for source, g in cal.groupby("source"):
        assert g["count"].sum() == n_test * 3, source  # every (customer, class) pair once
    assert financial_ease.ece(cal[cal.source == "trtr"]) == pytest.approx(m["trtr.ece"])
    assert set(imp["source"]) == {"trtr", "copy", "other"} and len(imp) == 3 * len(cfg["features"])
    with pytest.raises(DataError, match=r"unknown column\(s\) \['income'\]"):
        financial_ease.score(train, test, {}, {"features": ["income"]})


def test_lockdown_regression_recovers_an_injected_effect():
    rng = np.random.default_rng(0)
    periods = pd.date_range("2019-01-07", periods=150, freq="W-MON")
    angle = 2 * np.pi * periods.day_of_year.to_numpy() / 365.25
    hdd = np.clip(60 * np.cos(angle) + 40, 0, None) + rng.normal(0, 5, len(periods)).clip(0)
    n = 400
    level, slope = rng.uniform(40, 80, n), rng.uniform(0, 1.5, n)
    lockdowns = longitudinal.config({})["lockdowns"]
    share = longitudinal.lockdown_share(periods, *lockdowns[0])
    assert share.max() == 1.0 and 0 < share[share > 0].min() < 1  # partial weeks at both ends
    normal = level[:, None] + slope[:, None] * hdd[None, :]
    mat = normal * (1 - 0.08 * share[None, :]) * rng.lognormal(0, 0.03, (n, len(periods)))
    mat[:40, :20] = np.nan  # late joiners
    coef, base = longitudinal.lockdown_terms(mat, [np.broadcast_to(hdd, mat.shape)], periods, lockdowns)
    est, lo, hi, count = longitudinal._ratio_ci(coef, base, 1.96)
    assert count == n and lo < -0.08 < hi and hi - lo < 0.02


@pytest.fixture(scope="module")
def simulated() -> tuple[Portfolio, pd.DataFrame]:
    cfg = SimulatorConfig(n_customers=300, seed=3)
    return simulate_portfolio(cfg), temperature(cfg)


def test_studies_agree_with_themselves_and_catch_broken_series(simulated):
    p, temp = simulated
    cfg = {"min_customers": 15}
    # Consumption of one customer given to another: attributes and series no longer match.
    ids = p.customers["customer_id"].to_numpy()
    mapping = dict(zip(ids, np.random.default_rng(0).permutation(ids), strict=True))
    cons = p.consumption.assign(customer_id=p.consumption["customer_id"].map(mapping))
    broken = Portfolio(p.customers, cons, p.schema)
    table, m = longitudinal.compare_studies(p, {"same": p, "broken": broken}, cfg, temp)
    assert m["same.conclusions_preserved"] == 1.0
    assert m["broken.conclusions_preserved"] < 0.6
    assert m["n_estimates"] == len(table[table.source == "real"]) >= 5
    real = table[table.source == "real"].set_index("estimate")
    # The simulator's physics: electric direct heating is far more thermosensitive than gas.
    elec = real.loc["thermosensitivity[heating_energy=electric_direct]"]
    gas = real.loc["thermosensitivity[heating_energy=gas]"]
    assert elec["lo"] > gas["hi"] and elec["sign"] == 1
    assert real.loc["annual_kwh_per_subscribed_kva", "sign"] == 1
    md = longitudinal.side_by_side(table)
    assert md.count("\n") == len(real) + 2 and "✗" in md and "✓" in md
    # same code, same numbers: the thermosensitivity estimates use evaluation/series.py's degree days
    assert degree_days(temp, p.schema.series).shape[0] == p.schema.series.n_periods


def test_studies_without_temperature_still_run_and_params_are_checked(simulated):
    p, _ = simulated
    table, m = longitudinal.compare_studies(p, {"same": p}, {"min_customers": 15}, None)
    assert not table["study"].eq("thermosensitivity").any() and m["same.conclusions_preserved"] == 1.0
    with pytest.raises(ParamsError, match=r"studies\.longitudinal\.confidence"):
        longitudinal.config({"confidence": 95})
    with pytest.raises(ParamsError, match=r"studies\.longitudinal: unknown key"):
        longitudinal.config({"bootstrap": 100})


def test_conclusions_preserved_enter_the_utility_pillar_against_the_holdout():
    table = pd.DataFrame({"model": ["holdout", "a", "b"],
                          "study.longitudinal.conclusions_preserved": [0.8, 0.4, 1.0]})
    out = meta_metric(table).set_index("model")
    assert out.loc["a", "score.study.longitudinal.conclusions_preserved"] == pytest.approx(0.5)
    assert out.loc["b", "score.study.longitudinal.conclusions_preserved"] == 1.0
    assert out.loc["a", "pillar.utility"] == pytest.approx(0.5)


def test_stages_write_every_declared_output(tmp_path, monkeypatch, tiny_splits):
    import yaml

    from acacia.stages import study, usecase

    train, test, other = tiny_splits
    no_series = Portfolio(train.customers, train.consumption.iloc[:0], train.schema)
    no_series.schema = type(train.schema)(columns=train.schema.columns, series=None)
    monkeypatch.chdir(tmp_path)
    for split, p in (("train", train), ("test", test)):
        p.save(tmp_path / "data" / "processed" / split)
    other.save(tmp_path / "data" / "synthetic" / "m")
    params = {"train": {"models": {"m": {}}},
              "usecases": {"financial_ease": {"features": ["surface_m2", "series_mean_kwh"], "lightgbm": {"n_estimators": 10}}}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    usecase.run("params.yaml", "financial_ease")
    out = tmp_path / "reports"
    assert {"m.tstr_auc", "trtr.auc"} <= set(json.loads((out / "usecases" / "financial_ease.json").read_text()))
    assert (out / "usecases" / "financial_ease" / "importance.csv").exists()
    assert (out / "figures" / "usecases" / "financial_ease.png").exists()
    # a dataset without series (Adult) gets the declared outputs, marked not applicable
    for split in ("train", "test"):
        no_series.save(tmp_path / "data" / "processed" / split)
    usecase.run("params.yaml", "heating_detection")
    study.run("params.yaml", "longitudinal")
    for name in ("heating_detection", "longitudinal"):
        assert json.loads((out / "usecases" / f"{name}.json").read_text()) == {"applicable": 0.0}
        assert (out / "figures" / "usecases" / f"{name}.png").exists()
    assert (out / "usecases" / "heating_detection").is_dir()
    with pytest.raises(ParamsError, match="usecase 'pricing'"):
        usecase.run("params.yaml", "pricing")
