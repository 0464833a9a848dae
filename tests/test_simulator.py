"""The simulated portfolio: deterministic, schema-valid, calibrated on public figures, realistic."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from acacia.data.portfolio import Portfolio
from acacia.data.simulator import (
    SimulatorConfig,
    simulate_customers_static,
    simulate_ground_truth,
    simulate_portfolio,
    simulate_to_folder,
    temperature,
)
from acacia.errors import ParamsError

ELECTRIC = ["electric_direct", "heat_pump"]


@pytest.fixture(scope="module")
def static_100k() -> pd.DataFrame:
    return simulate_customers_static(SimulatorConfig(n_customers=100_000, seed=0))


@pytest.fixture(scope="module")
def weekly() -> tuple[Portfolio, pd.DataFrame, SimulatorConfig]:
    cfg = SimulatorConfig(n_customers=3000, seed=0)
    return simulate_portfolio(cfg), simulate_ground_truth(cfg), cfg


# Target shares (research/portfolio-figures.md) and the tolerance each is checked with.
CALIBRATION = [
    ("electric heating (CEREN 2018: 37 %)", lambda s: s.electric_heating.mean(), 0.37, 0.04),
    ("houses (INSEE: 56.5 %)", lambda s: (s.housing_type == "house").mean(), 0.565, 0.05),
    ("HP/HC tariff (44 %)", lambda s: (s.tariff_option == "HPHC").mean(), 0.44, 0.05),
    ("Base tariff (52 %)", lambda s: (s.tariff_option == "BASE").mean(), 0.52, 0.05),
    ("Tempo (2.5 %)", lambda s: (s.tariff_option == "TEMPO").mean(), 0.025, 0.015),
    ("air conditioning (ADEME 2020: 25 %)", lambda s: s.air_conditioning.mean(), 0.25, 0.05),
    ("H1 (50 %)", lambda s: (s.climate_zone == "H1").mean(), 0.50, 0.04),
    ("H2 (38 %)", lambda s: (s.climate_zone == "H2").mean(), 0.38, 0.04),
    ("H3 (12 %)", lambda s: (s.climate_zone == "H3").mean(), 0.12, 0.04),
    ("mean household size (INSEE: 2.2)", lambda s: s.household_size.mean(), 2.2, 0.2),
    ("one-person households (37 %)", lambda s: (s.household_size == 1).mean(), 0.37, 0.04),
    ("owners (58 %)", lambda s: (s.occupancy_status == "owner").mean(), 0.58, 0.05),
    ("very difficult financial ease (ONPE: 11.9 %)", lambda s: (s.financial_ease == "very_difficult").mean(), 0.119, 0.015),
    ("social tenants (17 %)", lambda s: (s.occupancy_status == "social_tenant").mean(), 0.17, 0.04),
    ("EJP (1.5 %)", lambda s: (s.tariff_option == "EJP").mean(), 0.015, 0.01),
    ("3 kVA (5 %)", lambda s: (s.subscribed_kva == 3).mean(), 0.05, 0.03),
    ("6 kVA (45 %)", lambda s: (s.subscribed_kva == 6).mean(), 0.45, 0.06),
    ("9 kVA (30 %)", lambda s: (s.subscribed_kva == 9).mean(), 0.30, 0.06),
    ("12 kVA (14 %)", lambda s: (s.subscribed_kva == 12).mean(), 0.14, 0.05),
    ("regulated offer (CRE: 57 %)", lambda s: (s.offer == "regulated").mean(), 0.57, 0.05),
    ("energy labels F+G (22 % [assumption])", lambda s: s.energy_label.isin(["F", "G"]).mean(), 0.22, 0.04),
    ("PV self-consumption (~0.3 %)", lambda s: s.pv_self_consumption.mean(), 0.004, 0.003),
    ("heat pumps among electric heating (25 %)", lambda s: (s.heating_energy == "heat_pump").sum() / s.electric_heating.sum(), 0.25, 0.06),
    ("electric water heater (45–50 %)", lambda s: s.electric_water_heater.mean(), 0.48, 0.06),
    ("EV (2021: ~2 %)", lambda s: s.ev.mean(), 0.02, 0.01),
    ("pool (~6 % of households)", lambda s: s.pool.mean(), 0.06, 0.025),
]


@pytest.mark.parametrize("name,share,target,tol", CALIBRATION, ids=[c[0] for c in CALIBRATION])
def test_calibrated_marginals(static_100k, name, share, target, tol):
    assert abs(share(static_100k) - target) <= tol, f"{name}: {share(static_100k):.3f}"


def test_six_kva_is_the_most_common_power(static_100k):
    shares = static_100k.subscribed_kva.value_counts(normalize=True)
    assert shares.idxmax() == 6 and shares[6] > 0.35
    assert set(shares.index) <= {3, 6, 9, 12, 15, 18, 24, 30, 36}
    # Electric heating pushes power up (rules of thumb, research §1.1).
    assert static_100k[static_100k.electric_heating].subscribed_kva.median() >= 9


def test_ejp_only_on_contracts_before_1998(static_100k):
    ejp = static_100k[static_100k.tariff_option == "EJP"]
    assert len(ejp) > 0 and (pd.to_datetime(ejp.contract_start_date) < "1998-01-01").all()


def test_deterministic_for_a_seed_whatever_the_chunk_size(tmp_path):
    a = SimulatorConfig(n_customers=12_000, seed=3, chunk_size=5_000)
    b = SimulatorConfig(n_customers=12_000, seed=3, chunk_size=50_000)
    simulate_to_folder(a, tmp_path / "a")
    simulate_to_folder(b, tmp_path / "b")
    pa, pb = Portfolio.load(tmp_path / "a"), Portfolio.load(tmp_path / "b")
    pd.testing.assert_frame_equal(pa.customers, pb.customers)
    pd.testing.assert_frame_equal(pa.consumption, pb.consumption)
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [
        "calendar.parquet", "consumption.parquet", "customers.parquet", "ground_truth.parquet", "schema.json",
        "temperature.parquet"]
    # the Tempo calendar: 22 red weekdays per November-March season
    calendar = pd.read_parquet(tmp_path / "a" / "calendar.parquet")
    red = pd.to_datetime(calendar.loc[calendar["tempo_red"] == 1, "date"])
    assert (red.dt.dayofweek < 5).all() and red.dt.month.isin([11, 12, 1, 2, 3]).all()
    assert (red[(red >= "2019-11-01") & (red <= "2020-03-31")].size == 22)
    pa.validate()
    other = simulate_portfolio(SimulatorConfig(n_customers=500, seed=4))
    assert not other.customers.equals(simulate_portfolio(SimulatorConfig(n_customers=500, seed=3)).customers)


def test_same_seed_and_chunk_size_give_identical_files(tmp_path):
    cfg = SimulatorConfig(n_customers=1500, seed=7, chunk_size=1000)
    simulate_to_folder(cfg, tmp_path / "a")
    simulate_to_folder(cfg, tmp_path / "b")
    for f in (tmp_path / "a").iterdir():
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes(), f.name
    assert not [f for f in (tmp_path / "a").iterdir() if f.name.startswith(".")]   # no temp leftovers


def test_schema_valid_with_nulls_where_declared(weekly):
    p, _, _ = weekly
    p.validate()
    assert len(p.customers.columns) >= 25
    for col in p.schema.columns:
        has_nulls = p.customers[col.name].isna().any()
        assert has_nulls == col.nullable, col.name
    # MAR: surface unknown more often on contracts older than the 2010 CRM migration.
    old = pd.to_datetime(p.customers.contract_start_date) < "2010-01-01"
    assert p.customers.surface_m2[old].isna().mean() > 2 * p.customers.surface_m2[~old].isna().mean()


def test_missing_financial_ease_is_mnar(weekly):
    p, gt, cfg = weekly
    static = simulate_customers_static(cfg)
    missing = p.customers.financial_ease.isna()
    worst = static.financial_ease == "very_difficult"
    assert missing[worst].mean() > 2.5 * missing[~worst].mean()


def annual_2019(p: Portfolio, gt: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    m = p.series_matrix()
    per = p.schema.series.periods
    y = per.year == 2019
    c = p.customers.merge(gt, on="customer_id")
    clean = ~np.isnan(m[:, y]).any(axis=1) & ~c.vacant.to_numpy() & ~c.meter_catchup.to_numpy()
    return np.nansum(m[:, y], axis=1) * 52 / y.sum(), clean, c


def test_annual_consumption_by_profile(weekly):
    """Research §1.4 ranges, on the median of each profile (tolerance: ±15 % of the range edges)."""
    p, gt, _ = weekly
    kwh, clean, c = annual_2019(p, gt)
    true = c.heating_energy_true.to_numpy()
    house = (c.housing_type == "house").to_numpy()
    small = c.household_size.astype(float).le(2).to_numpy()
    ewh = c.electric_water_heater.astype("boolean").fillna(False).to_numpy(bool)
    nonelec_flat = clean & ~np.isin(true, ELECTRIC) & ~house & small & ~ewh
    direct_house = clean & (true == "electric_direct") & house & c.construction_period.isin(["1975-1989"]).to_numpy()
    assert 1800 * 0.85 <= np.median(kwh[nonelec_flat]) <= 2800 * 1.15
    assert 11000 * 0.85 <= np.median(kwh[direct_house]) <= 16000 * 1.15
    assert 3000 <= np.median(kwh[clean]) <= 5500   # ~4,255–4,792 kWh per home (Elecdom, ORE)


def test_winter_summer_ratio_and_lockdown(weekly):
    p, gt, _ = weekly
    m = p.series_matrix()
    per = p.schema.series.periods
    c = p.customers.merge(gt, on="customer_id")
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ratio = np.nanmean(m[:, np.isin(per.month, [12, 1, 2])], 1) / np.nanmean(m[:, np.isin(per.month, [6, 7, 8])], 1)
    elec = np.isin(c.heating_energy_true, ELECTRIC)
    assert 2.5 <= np.nanmedian(ratio[elec]) <= 4.5
    assert 1.0 <= np.nanmedian(ratio[~elec]) <= 1.4
    lock = (per >= "2020-03-23") & (per <= "2020-05-04")
    before = (per >= "2019-03-25") & (per <= "2019-05-06")
    tele = c.teleworker.to_numpy() & ~np.isnan(m[:, before | lock]).any(1)
    left = c.left_during_lockdown.to_numpy() & ~np.isnan(m[:, before | lock]).any(1)
    assert np.nanmean(m[tele][:, lock]) / np.nanmean(m[tele][:, before]) > 1.03
    assert np.nanmean(m[left][:, lock]) / np.nanmean(m[left][:, before]) < 0.7
    # Ground truth records who was affected and by how much (lockdown 1 multiplier).
    assert (c.lockdown1_factor[c.teleworker].between(1.05, 1.10)).all()
    assert (c.lockdown1_factor[~c.teleworker & ~c.left_during_lockdown] == 1).all()


def test_late_joiners_start_at_their_contract(weekly):
    p, gt, _ = weekly
    first = p.consumption.groupby("customer_id").period_start.min()
    c = p.customers.set_index("customer_id")
    gaps = gt.set_index("customer_id").meter_gap_periods
    late = (c.contract_start_date > pd.Timestamp("2019-01-07")) & (gaps.reindex(c.index) == 0)
    assert late.sum() > 100
    start = c.contract_start_date[late]
    delta = (first.reindex(start.index) - start).dt.days
    assert delta.between(-6, 0).all()   # the week containing the contract start


def test_daily_frequency_and_temperature():
    cfg = SimulatorConfig(n_customers=300, frequency="daily", start="2020-01-01", end="2020-12-31")
    p = simulate_portfolio(cfg)
    p.validate()
    assert p.schema.series.n_periods == 366
    t = temperature(cfg)
    jan = t[pd.to_datetime(t.date).dt.month == 1].groupby("climate_zone").temperature_c.mean()
    assert jan["H1"] < jan["H2"] < jan["H3"] and 1 < jan["H1"] < 7


def test_bad_params_name_the_key():
    with pytest.raises(ParamsError, match="simulate.n_customers"):
        SimulatorConfig.from_params({"n_customers": "abc"})
    with pytest.raises(ParamsError, match="simulate.frequency"):
        SimulatorConfig.from_params({"frequency": "hourly"})
    with pytest.raises(ParamsError, match="unknown key"):
        SimulatorConfig.from_params({"n_customer": 3})
