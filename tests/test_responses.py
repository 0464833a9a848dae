"""The responses series representation: customers' responses to degree days, declared events and
calendar days carried as columns, and the calendar table that feeds them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from acacia.data.loaders import load_calendar
from acacia.data.portfolio import Portfolio
from acacia.data.schema import Column, Schema, SeriesSpec
from acacia.errors import DataError, ParamsError
from acacia.models import Synthesizer, make_model
from acacia.transforms.responses import ResponseSeries, period_mean
from acacia.transforms.series import CompressedSeries, make_series_representation
from acacia.usecases import studies
from acacia.usecases.ceiling import ceiling_portfolio

PERIODS = pd.date_range("2019-01-07", periods=130, freq="W-MON")
DAYS = pd.date_range(PERIODS[0], PERIODS[-1] + pd.Timedelta(days=6), freq="D")
EVENT = ["2020-03-16", "2020-05-10"]
ZONES = ("north", "south")


def temperature_table() -> pd.DataFrame:
    angle = 2 * np.pi * DAYS.dayofyear.to_numpy() / 365.25
    rng = np.random.default_rng(1)
    rows = []
    for z, warm in zip(ZONES, (0.0, 5.0), strict=True):
        t = 11 + warm - 8 * np.cos(angle) + rng.normal(0, 2.5, len(DAYS))
        rows.append(pd.DataFrame({"date": DAYS, "climate_zone": z, "temperature_c": t}))
    return pd.concat(rows, ignore_index=True)


def calendar_table() -> pd.DataFrame:
    # Red days: a few cold weekdays of each winter, as Tempo.
    red = (DAYS.month.isin([12, 1, 2])) & (DAYS.dayofweek < 5) & (DAYS.day % 4 == 0)
    return pd.DataFrame({"date": DAYS, "tempo_red": red})


def planted(n: int = 600, seed: int = 0):
    """Weekly kWh = (base + gradient·HDD) × (1 + event response in the window) × (1 + red-day
    response on red days) × noise; per-customer gradients, event and red-day responses."""
    rng = np.random.default_rng(seed)
    temp = temperature_table()
    zone = rng.choice(ZONES, n)
    wide = temp.pivot(index="date", columns="climate_zone", values="temperature_c")
    hdd = np.stack([period_mean(PERIODS, DAYS, np.clip(16 - wide[z].to_numpy(), 0, None)) for z in ZONES])
    red = period_mean(PERIODS, DAYS, calendar_table()["tempo_red"].to_numpy(dtype=float))
    event = studies.window_share(PERIODS, *(pd.Timestamp(d) for d in EVENT))
    base = rng.lognormal(3.0, 0.3, n)
    gradient = np.where(rng.random(n) < 0.5, rng.uniform(0.5, 1.5, n), 0.0) * base / 5
    event_response = rng.normal(-0.1, 0.08, n)
    tempo = rng.random(n) < 0.3
    red_response = np.where(tempo, -0.4, 0.0)
    h = hdd[(zone == ZONES[1]).astype(int)]
    mat = ((base[:, None] + gradient[:, None] * h) * (1 + event_response[:, None] * event[None, :])
           * (1 + red_response[:, None] * red[None, :]) * rng.lognormal(0, 0.05, (n, len(PERIODS))))
    mat[:60, :30] = np.nan  # late joiners
    customers = pd.DataFrame({"climate_zone": zone, "tariff": np.where(tempo, "TEMPO", "BASE")})
    return mat, customers, {"gradient": gradient, "event": event_response, "tempo": tempo}


def as_portfolio(mat: np.ndarray, customers: pd.DataFrame) -> Portfolio:
    ids = pd.Series([f"C{i:04d}" for i in range(len(mat))])
    schema = Schema([Column("customer_id", "id"), Column("climate_zone", "categorical", categories=list(ZONES)),
                     Column("tariff", "categorical", categories=["BASE", "TEMPO"])], id_column="customer_id",
                    series=SeriesSpec(frequency="weekly", start=str(PERIODS[0].date()), n_periods=len(PERIODS)))
    customers = customers.assign(customer_id=ids)[["customer_id", "climate_zone", "tariff"]]
    return Portfolio(customers, Portfolio.consumption_from_matrix(ids, mat, schema), schema)


def spec(**extra) -> dict:
    return {"name": "responses", "n_components": 3, "temperature": temperature_table(), "zone_column": "climate_zone",
            "hdd_bases": [16], "calendar": calendar_table(), "events": {"lockdown": [EVENT]}, **extra}


def test_period_mean_averages_each_periods_days():
    days = pd.date_range("2021-01-04", periods=21, freq="D")
    periods = pd.date_range("2021-01-04", periods=3, freq="W-MON")
    np.testing.assert_allclose(period_mean(periods, days, np.arange(21.0)), [3.0, 10.0, 17.0])
    # days outside the grid are ignored; a period without any day is NaN
    assert np.isnan(period_mean(periods, days[:7], np.ones(7))[1:]).all()


def test_responses_carry_each_customers_own_response():
    mat, customers, truth = planted()
    rep = make_series_representation(spec()).fit(mat, customers, None, PERIODS)
    assert isinstance(rep, ResponseSeries)
    # weekly grid: the weekend share is constant, so it is no input
    assert rep.columns[:4] == ["kwh_level", "kwh_hdd16", "kwh_lockdown", "kwh_tempo_red"]
    cols = rep.to_columns(mat, customers)
    full = ~np.isnan(mat).any(axis=1)
    assert np.corrcoef(cols["kwh_lockdown"][full], truth["event"][full])[0, 1] > 0.8
    assert np.corrcoef(cols["kwh_hdd16"][full], truth["gradient"][full])[0, 1] > 0.8
    red = cols["kwh_tempo_red"].to_numpy()
    assert red[truth["tempo"]].mean() < red[~truth["tempo"]].mean() - 3 * red[~truth["tempo"]].std() / 10
    # Decoded: the portfolio's event response is the real one; the compressed components
    # (fitted on the same curves) carry the average dip only.
    table = pd.concat([customers, cols], axis=1)
    decoded = rep.from_columns(table, np.random.default_rng(0))
    np.testing.assert_array_equal(np.isnan(decoded), np.isnan(mat))
    event = studies.window_share(PERIODS, *(pd.Timestamp(d) for d in EVENT))

    def per_customer_dip(m: np.ndarray) -> np.ndarray:
        inside, outside = event > 0.9, (event == 0) & (PERIODS.month.isin([3, 4, 5]))
        return np.nanmean(m[:, inside], 1) / np.nanmean(m[:, outside], 1) - 1

    real_dip = per_customer_dip(mat)
    assert np.corrcoef(per_customer_dip(decoded)[full], real_dip[full])[0, 1] > 0.7
    plain = CompressedSeries(3).fit(mat)
    flat = plain.from_columns(plain.to_columns(mat), np.random.default_rng(0))
    assert np.corrcoef(per_customer_dip(flat)[full], real_dip[full])[0, 1] < 0.5


def test_responses_decode_with_the_zone_and_survive_a_model_file(tmp_path):
    mat, customers, _ = planted(n=200)
    rep = ResponseSeries(**{k: v for k, v in spec().items() if k != "name"}).fit(mat, customers, None, PERIODS)
    cols = pd.concat([customers, rep.to_columns(mat, customers)], axis=1)
    # an unknown or missing zone decodes with the zones' average temperature, not an error
    cols.loc[:4, "climate_zone"] = None
    cols.loc[5:9, "climate_zone"] = "elsewhere"
    out = rep.from_columns(cols, np.random.default_rng(0))
    assert np.isfinite(out[:10][~np.isnan(mat[:10])]).all()
    with pytest.raises(DataError, match="climate_zone"):
        rep.to_columns(mat)
    # A whole model with the representation saves and loads as data, and samples the same.
    # as in the pipeline, the tables are files (a model's params must be plain values to be saved)
    temperature_table().to_parquet(tmp_path / "temperature.parquet")
    calendar_table().to_parquet(tmp_path / "calendar.parquet")
    files = spec(temperature=str(tmp_path / "temperature.parquet"), calendar=str(tmp_path / "calendar.parquet"))
    p = as_portfolio(mat, customers)
    model = make_model("gaussian_copula", {"seed": 0, "series_representation": files}).fit(p)
    model.save(tmp_path / "m")
    again = Synthesizer.load(tmp_path / "m")
    a, b = model.sample(50, seed=3), again.sample(50, seed=3)
    np.testing.assert_array_equal(np.nan_to_num(a.series_matrix()), np.nan_to_num(b.series_matrix()))


def test_responses_options_are_checked():
    with pytest.raises(ParamsError, match="zone_column"):
        make_series_representation({"name": "responses", "temperature": temperature_table()})
    with pytest.raises(ParamsError, match="events.lockdown"):
        make_series_representation({"name": "responses", "events": {"lockdown": ["2020-05-01", "2020-03-01"]}})
    with pytest.raises(ParamsError, match="space"):
        make_series_representation({"name": "responses", "space": "sqrt"})
    with pytest.raises(DataError, match="no file"):
        make_series_representation({"name": "responses", "calendar": "nowhere/calendar.parquet"}).fit(
            np.ones((3, len(PERIODS))), None, None, PERIODS)


def test_daily_series_get_a_weekend_response_without_any_table():
    rng = np.random.default_rng(0)
    periods = pd.date_range("2013-01-01", periods=120, freq="D")
    weekend = (periods.dayofweek >= 5).astype(float)
    uplift = rng.uniform(0.0, 0.3, 300)
    mat = rng.lognormal(2, 0.2, 300)[:, None] * (1 + uplift[:, None] * weekend[None, :]) * rng.lognormal(0, 0.05, (300, 120))
    rep = make_series_representation({"name": "responses", "n_components": 2}).fit(mat, None, None, periods)
    cols = rep.to_columns(mat)
    assert "kwh_weekend" in cols and np.corrcoef(cols["kwh_weekend"], uplift)[0, 1] > 0.9


def test_the_ceiling_of_responses_keeps_the_event_of_a_portfolio():
    mat, customers, _ = planted()
    p = as_portfolio(mat, customers)
    ids = p.ids
    half = ids.iloc[: len(ids) // 2]
    train, holdout = p.subset(half), p.subset(ids.iloc[len(ids) // 2:])
    cfg = {"min_customers": 20, "zone_column": "climate_zone", "estimates": {"events": [
        {"type": "event", "name": "lockdown", "window": EVENT, "degree_day_bases": [16]},
        {"type": "event", "name": "red", "calendar": "tempo_red", "by": "tariff", "degree_day_bases": [16]}]}}
    sources = {"responses": ceiling_portfolio(train, holdout, spec()),
               "compressed": ceiling_portfolio(train, holdout, {"name": "compressed", "n_components": 3})}
    table, m = studies.compare_studies(holdout, sources, cfg, temperature_table(), "events", calendar_table())
    real = table[table.source == "real"].set_index("estimate")["value"]
    assert real["red[tariff=TEMPO]"] < -0.2 and abs(real["red[tariff=BASE]"]) < 0.05
    assert m["responses.conclusions_preserved"] == 1.0
    resp = table[table.source == "responses"].set_index("estimate")["value"]
    assert abs(resp["red[tariff=TEMPO]"] - real["red[tariff=TEMPO]"]) < 0.05


def test_event_blocks_take_a_window_or_a_calendar_column():
    with pytest.raises(ParamsError, match="either a window"):
        studies.config({"estimates": {"e": [{"type": "event", "name": "x"}]}}, "s")
    with pytest.raises(ParamsError, match="both"):
        studies.config({"estimates": {"e": [{"type": "event", "name": "x", "window": EVENT, "calendar": "c"}]}}, "s")


def test_calendar_table_accepts_flags_and_shares(tmp_path):
    path = tmp_path / "calendar.csv"
    path.write_text("date,tempo_red,school\n2021-01-04,true,0.5\n2021-01-05,False,1\n")
    cal = load_calendar(path)
    assert cal["tempo_red"].tolist() == [1.0, 0.0] and cal["school"].tolist() == [0.5, 1.0]
    path.write_text("date,tempo_red\n2021-01-04,2\n")
    with pytest.raises(DataError, match="tempo_red"):
        load_calendar(path)
    path.write_text("day,tempo_red\n2021-01-04,1\n")
    with pytest.raises(DataError, match="'date'"):
        load_calendar(path)


def test_evaluation_scores_each_customers_event_response():
    from acacia.evaluation.series import series_metrics

    mat, customers, truth = planted()
    spec_ = SeriesSpec(frequency="weekly", start=str(PERIODS[0].date()), n_periods=len(PERIODS))
    groups = np.where(truth["gradient"] > 0, "heated", "not").astype(object)
    zones = customers["climate_zone"].to_numpy(dtype=object)
    share = studies.window_share(PERIODS, *(pd.Timestamp(d) for d in EVENT))
    # the same curves without any customer's lockdown response: the relation is lost
    without = mat / (1 + truth["event"][:, None] * share[None, :])
    kwargs = {"temperature": temperature_table(), "events": {"lockdown": [EVENT]}, "max_rows": 300, "folds": 2}
    same, tables = series_metrics(mat, mat, mat, spec_, groups, groups, zones, zones, **kwargs)
    lost, _ = series_metrics(mat, without, mat, spec_, groups, groups, zones, zones, **kwargs)
    assert same["response_event_score"] == 1.0 and same["response_gradient_score"] == 1.0
    assert lost["response_event_score"] < 0.5
    rows = tables["conditional"]
    assert set(rows.loc[rows["metric"] == "event_response:lockdown", "group"]) == {"heated", "not"}
