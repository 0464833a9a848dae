"""Use cases: heating detection pre-training, band scoring (financial ease), studies declared from
generic blocks, and the study metric in the meta-metric. Small in-code data, fixed seeds."""

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
from acacia.usecases import financial_ease, heating_detection, studies
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


LOCKDOWNS = [["2020-03-17", "2020-05-10"], ["2020-10-30", "2020-12-15"], ["2021-04-03", "2021-05-03"]]
#: The simulated portfolio's study, as params.yaml declares it.
LONGITUDINAL = {"min_customers": 15, "zone_column": "climate_zone", "estimates": {
    "thermosensitivity": [{"type": "thermosensitivity", "by": "heating_energy"}],
    "lockdown": [{"type": "event", "name": "lockdown_effect", "window": LOCKDOWNS[0], "exclude": LOCKDOWNS[1:],
                  "degree_day_bases": [18, 14, 10]}],
    "tariff": [{"type": "contrast", "measure": "annual_kwh", "by": "tariff_option", "reference": "BASE"}],
    "kva": [{"type": "contrast", "measure": "annual_kwh", "by": "subscribed_kva", "reference": 6},
            {"type": "slope", "measure": "annual_kwh", "x": "subscribed_kva", "unit": "kWh per year per kVA"}]}}


def test_event_regression_recovers_an_injected_effect():
    rng = np.random.default_rng(0)
    periods = pd.date_range("2019-01-07", periods=150, freq="W-MON")
    angle = 2 * np.pi * periods.day_of_year.to_numpy() / 365.25
    hdd = np.clip(60 * np.cos(angle) + 40, 0, None) + rng.normal(0, 5, len(periods)).clip(0)
    n = 400
    level, slope = rng.uniform(40, 80, n), rng.uniform(0, 1.5, n)
    window = (pd.Timestamp(LOCKDOWNS[0][0]), pd.Timestamp(LOCKDOWNS[0][1]))
    others = [(pd.Timestamp(a), pd.Timestamp(b)) for a, b in LOCKDOWNS[1:]]
    share = studies.window_share(periods, *window)
    assert share.max() == 1.0 and 0 < share[share > 0].min() < 1  # partial weeks at both ends
    normal = level[:, None] + slope[:, None] * hdd[None, :]
    mat = normal * (1 - 0.08 * share[None, :]) * rng.lognormal(0, 0.03, (n, len(periods)))
    mat[:40, :20] = np.nan  # late joiners
    coef, base = studies.event_terms(mat, [np.broadcast_to(hdd, mat.shape)], periods, window, others)
    est, lo, hi, count = studies._ratio_ci(coef, base, 1.96)
    assert count == n and lo < -0.08 < hi and hi - lo < 0.02


@pytest.fixture(scope="module")
def simulated() -> tuple[Portfolio, pd.DataFrame]:
    cfg = SimulatorConfig(n_customers=300, seed=3)
    return simulate_portfolio(cfg), temperature(cfg)


def test_studies_agree_with_themselves_and_catch_broken_series(simulated):
    p, temp = simulated
    # Consumption of one customer given to another: attributes and series no longer match.
    ids = p.customers["customer_id"].to_numpy()
    mapping = dict(zip(ids, np.random.default_rng(0).permutation(ids), strict=True))
    cons = p.consumption.assign(customer_id=p.consumption["customer_id"].map(mapping))
    broken = Portfolio(p.customers, cons, p.schema)
    table, m = studies.compare_studies(p, {"same": p, "broken": broken}, LONGITUDINAL, temp, "longitudinal")
    assert m["same.conclusions_preserved"] == 1.0
    assert m["broken.conclusions_preserved"] < 0.6
    assert m["n_estimates"] == len(table[table.source == "real"]) >= 5
    assert {"same.thermosensitivity_preserved", "same.lockdown_preserved", "same.kva_preserved"} <= set(m)
    real = table[table.source == "real"].set_index("estimate")
    # The simulator's physics: electric direct heating is far more thermosensitive than gas.
    elec = real.loc["thermosensitivity[heating_energy=electric_direct]"]
    gas = real.loc["thermosensitivity[heating_energy=gas]"]
    assert elec["lo"] > gas["hi"] and elec["sign"] == 1
    assert real.loc["annual_kwh_per_subscribed_kva", "sign"] == 1
    assert real.loc["annual_kwh_per_subscribed_kva", "unit"] == "kWh per year per kVA"
    md = studies.side_by_side(table)
    assert md.count("\n") == len(real) + 2 and "✗" in md and "✓" in md
    # same code, same numbers: the thermosensitivity estimates use evaluation/series.py's degree days
    assert degree_days(temp, p.schema.series).shape[0] == p.schema.series.n_periods


def test_blocks_a_portfolio_cannot_support_are_skipped_with_a_line(simulated, capsys):
    p, _ = simulated
    cfg = {**LONGITUDINAL, "estimates": {**LONGITUDINAL["estimates"],
                                         "calendar": [{"type": "ratio", "name": "weekend", "numerator": {"weekdays": [5, 6]},
                                                       "denominator": {"weekdays": [0, 1, 2, 3, 4]}}],
                                         "acorn": [{"type": "level", "by": "Acorn_grouped"}]}}
    table, m = studies.compare_studies(p, {"same": p}, cfg, None, "longitudinal")
    err = capsys.readouterr().err
    assert "thermosensitivity[0] (thermosensitivity) skipped: no temperature table" in err
    assert "calendar[0] (ratio) skipped: weekdays need a daily series, this one is weekly" in err
    assert "acorn[0] (level) skipped: no column ['Acorn_grouped']" in err
    assert not table["study"].isin(["thermosensitivity", "calendar", "acorn"]).any()
    assert m["same.conclusions_preserved"] == 1.0 and "lockdown_effect" in set(table["estimate"])
    with pytest.raises(studies.NoEstimate, match="supports no estimate"):
        studies.compare_studies(p, {}, {"estimates": {"acorn": [{"type": "level", "by": "Acorn_grouped"}]}}, None, "x")


def test_study_declarations_are_checked_with_their_params_path():
    with pytest.raises(ParamsError, match=r"studies\.longitudinal\.confidence"):
        studies.config({**LONGITUDINAL, "confidence": 95}, "longitudinal")
    with pytest.raises(ParamsError, match=r"studies\.longitudinal: unknown key"):
        studies.config({**LONGITUDINAL, "bootstrap": 100}, "longitudinal")
    with pytest.raises(ParamsError, match=r"studies\.s\.estimates\.a\[0\]\.type: expected one of"):
        studies.config({"estimates": {"a": [{"type": "anova"}]}}, "s")
    with pytest.raises(ParamsError, match=r"studies\.s\.estimates\.a\[1\] \(contrast\): missing key\(s\) \['reference'\]"):
        studies.config({"estimates": {"a": [{"type": "level", "by": "x"}, {"type": "contrast", "by": "x"}]}}, "s")
    with pytest.raises(ParamsError, match=r"estimates\.a\[0\]\.numerator\.weekdays: expected a list of integers"):
        studies.config({"estimates": {"a": {"type": "ratio", "name": "r", "numerator": {"weekdays": [7]},
                                             "denominator": {"months": [1]}}}}, "s")
    with pytest.raises(ParamsError, match=r"estimates\.a\[0\]\.window: ends before it starts"):
        studies.config({"estimates": {"a": {"type": "event", "name": "e", "window": ["2020-05-01", "2020-03-01"]}}}, "s")


def _daily_portfolio(n: int = 400, seed: int = 0) -> Portfolio:
    """Daily series with a 10 % weekend uplift, a January-February over summer ratio of 1.5 in
    group A (1.0 in B) and a -5 % step for treated customers from 2021-09-01."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2021-01-04", periods=364, freq="D")
    group = rng.choice(["A", "B"], n)
    treated = rng.random(n) < 0.4
    winter = np.isin(days.month, [1, 2])
    season = np.where(group[:, None] == "A", np.where(winter, 1.5, 1.0)[None, :], 1.0)
    level = rng.lognormal(2, 0.3, n)[:, None]
    mat = level * season * np.where(days.dayofweek >= 5, 1.1, 1.0)[None, :]
    mat = mat * np.where(treated[:, None] & (days >= "2021-09-01")[None, :], 0.95, 1.0)
    mat = mat * rng.lognormal(0, 0.1, mat.shape)
    customers = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "group": group,
                              "tariff": np.where(treated, "new", "old")})
    consumption = pd.DataFrame({"customer_id": np.repeat(customers["customer_id"], len(days)),
                                "period_start": np.tile(days, n), "kwh": mat.ravel()})
    return Portfolio.from_frames(customers, consumption)


def test_calendar_ratio_and_difference_in_differences_blocks_recover_injected_effects():
    p = _daily_portfolio()
    cfg = {"estimates": {
        "calendar": [{"type": "ratio", "name": "weekend", "numerator": {"weekdays": [5, 6]},
                      "denominator": {"weekdays": [0, 1, 2, 3, 4]}, "minus_one": True},
                     {"type": "ratio", "name": "winter_summer", "numerator": {"months": [1, 2]},
                      "denominator": {"months": [6, 7, 8]}, "by": "group"}],
        "levels": [{"type": "level", "by": "group"}, {"type": "contrast", "by": "group", "reference": "B",
                                                     "measure": "daily_kwh"}],
        "tariff": [{"type": "did", "name": "tariff_effect", "treated": {"tariff": "new"},
                    "pre": [["2021-03-01", "2021-05-31"]], "post": [["2021-09-01", "2021-11-30"]]}]}}
    table, m = studies.compare_studies(p, {"same": p}, cfg, None, "s")
    real = table[table.source == "real"].set_index("estimate")

    def near(name: str, truth: float) -> bool:
        # within 1 % of the injected effect: the calendar's weekday mix differs a little between
        # the selections (the year ends on a weekend), so the truth is not exact to the interval
        return abs(real.loc[name, "value"] - truth) < 0.01 and real.loc[name, "hi"] - real.loc[name, "lo"] < 0.1

    assert near("weekend", 0.10) and real.loc["weekend", "sign"] == 1
    assert near("winter_summer[group=A]", 1.5) and real.loc["winter_summer[group=A]", "sign"] == 1
    assert near("winter_summer[group=B]", 1.0)
    # a plain ratio is read against 1, a relative change against 0
    assert studies._sign(0.99, 1.2, null=1.0) == 0 and studies._sign(1.01, 1.2, null=1.0) == 1
    assert near("tariff_effect", np.log(0.95)) and real.loc["tariff_effect", "sign"] == -1
    assert real.loc["daily_kwh[group=A]", "unit"] == "kWh per day" and m["same.conclusions_preserved"] == 1.0
    # a portfolio without the treated group's step loses the tariff conclusion only
    flat = p.series_matrix()
    flat = flat / np.where(p.customers["tariff"].to_numpy()[:, None] == "new",
                           np.where(p.schema.series.periods >= "2021-09-01", 0.95, 1.0)[None, :], 1.0)
    untreated = Portfolio(p.customers, Portfolio.consumption_from_matrix(p.ids, flat, p.schema), p.schema)
    _, m2 = studies.compare_studies(p, {"untreated": untreated}, cfg, None, "s")
    assert m2["untreated.tariff_preserved"] == 0.0 and m2["untreated.calendar_preserved"] == 1.0


def test_conclusions_preserved_enter_the_utility_pillar_against_the_holdout():
    table = pd.DataFrame({"model": ["holdout", "a", "b"],
                          "study.longitudinal.conclusions_preserved": [0.8, 0.4, 1.0]})
    out = meta_metric(table).set_index("model")
    assert out.loc["a", "score.study.longitudinal.conclusions_preserved"] == pytest.approx(0.5)
    assert out.loc["b", "score.study.longitudinal.conclusions_preserved"] == 1.0
    assert out.loc["a", "pillar.utility"] == pytest.approx(0.5)


def test_stages_write_every_declared_output(tmp_path, monkeypatch, tiny_splits, capsys):
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
              "usecases": {"financial_ease": {"features": ["surface_m2", "series_mean_kwh"], "lightgbm": {"n_estimators": 10}},
                           "heating_detection": {}, "ev_scoring": {"kind": "scoring", "target": "ev"},
                           "bad": {"kind": "pricing"}},
              "studies": {"longitudinal": LONGITUDINAL}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    usecase.run("params.yaml", "financial_ease")
    out = tmp_path / "reports"
    assert {"m.tstr_auc", "trtr.auc"} <= set(json.loads((out / "usecases" / "financial_ease.json").read_text()))
    assert (out / "usecases" / "financial_ease" / "importance.csv").exists()
    assert (out / "figures" / "usecases" / "financial_ease.png").exists()
    usecase.run("params.yaml", "ev_scoring")  # another band, same kind
    assert {"m.tstr_auc", "trtr.auc"} <= set(json.loads((out / "usecases" / "ev_scoring.json").read_text()))
    # a use case whose columns the dataset lacks: skipped, its declared outputs say why
    usecase.run("params.yaml", "heating_detection")
    assert "no column 'electric_heating'" in capsys.readouterr().err
    assert json.loads((out / "usecases" / "heating_detection.json").read_text()) == {"applicable": 0.0}
    # a dataset without series (Adult) gets the declared outputs, marked not applicable
    for split in ("train", "test"):
        no_series.save(tmp_path / "data" / "processed" / split)
    usecase.run("params.yaml", "heating_detection")
    study.run("params.yaml", "longitudinal")
    for name in ("heating_detection", "longitudinal"):
        assert json.loads((out / "usecases" / f"{name}.json").read_text()) == {"applicable": 0.0}
        assert (out / "figures" / "usecases" / f"{name}.png").exists()
    assert (out / "usecases" / "heating_detection").is_dir()
    with pytest.raises(ParamsError, match=r"usecases\.bad\.kind: expected one of \['heating_detection', 'scoring'\]"):
        usecase.run("params.yaml", "bad")
    with pytest.raises(ParamsError, match=r"usecases\.pricing: not declared in params.yaml \(usecases: \["):
        usecase.run("params.yaml", "pricing")
    with pytest.raises(ParamsError, match=r"studies\.other: not declared"):
        study.run("params.yaml", "other")
