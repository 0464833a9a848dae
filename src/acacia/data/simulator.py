"""The default portfolio: a simulated French residential customer base with consumption series.

Customers are drawn node by node along a causal graph (data/README.md): region → climate zone;
age → household → income → occupancy → dwelling → heating and equipment → contract; income and
energy burden → financial ease. Consumption is simulated *daily* from those attributes and a
simulated temperature series per climate zone (base load, thermosensitive heating, water heating,
AC, EV, pool, PV, holidays, the 2020 lockdowns, Tempo red days, noise, level shifts), then
aggregated to the output frequency. Defects (missing values by MCAR/MAR/MNAR mechanisms, outliers,
late joiners, ended contracts, meter gaps) are applied last, to the observed tables only; the
ground truth keeps the true values.

Determinism: customers are generated in fixed blocks of ``BLOCK`` customers, each with its own
random stream derived from (seed, block index), and the temperature series from the seed alone,
so the same seed gives the same data whatever ``chunk_size`` is.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from acacia.data.portfolio import CONSUMPTION_FILE, CUSTOMERS_FILE, SCHEMA_FILE, Portfolio
from acacia.data.schema import Column, Schema, SeriesSpec
from acacia.errors import ParamsError

BLOCK = 5000
TABLES = Path(__file__).with_name("simulator_tables.yaml")
PERIODS = ["<1949", "1949-1974", "1975-1989", "1990-2005", "2006-2012", ">2012"]
LABELS = list("ABCDEFG")
HEATING = ["electric_direct", "heat_pump", "gas", "fuel_oil", "wood", "district", "other"]
EASE = ["very_difficult", "difficult", "ok", "comfortable"]
OCCUPANCY = ["owner", "private_tenant", "social_tenant", "rent_free"]
PAYMENT = ["monthly_direct_debit", "direct_debit_on_bill", "other"]
TARIFFS = ["BASE", "HPHC", "TEMPO", "EJP"]
AGES = ["<30", "30-44", "45-59", "60-74", "75+"]
ZONES = ["H1", "H2", "H3"]
FIXED_HOLIDAYS = ["01-01", "05-01", "05-08", "07-14", "08-15", "11-01", "11-11", "12-25"]


@dataclass
class SimulatorConfig:
    n_customers: int = 20000
    seed: int = 0
    start: str = "2019-01-01"
    end: str = "2021-12-31"
    frequency: str = "weekly"
    chunk_size: int = 50000
    tables: str | None = None

    @classmethod
    def from_params(cls, d: dict[str, Any], section: str = "simulate") -> SimulatorConfig:
        """Checked settings; errors name the key under ``section`` (its params.yaml path)."""
        if not isinstance(d, dict):
            raise ParamsError(f"{section}: expected a mapping of simulator settings")
        known = {f.name: f for f in fields(cls)}
        unknown = set(d) - set(known)
        if unknown:
            raise ParamsError(f"{section}: unknown key(s) {sorted(unknown)}, expected some of {sorted(known)}")
        cfg = cls(**d)
        for key in ("n_customers", "chunk_size"):
            v = getattr(cfg, key)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ParamsError(f"{section}.{key}: expected a positive integer, got {v!r}")
        if not isinstance(cfg.seed, int) or isinstance(cfg.seed, bool) or cfg.seed < 0:
            raise ParamsError(f"{section}.seed: expected a non-negative integer, got {cfg.seed!r}")
        if cfg.frequency not in ("weekly", "daily"):
            raise ParamsError(f"{section}.frequency: expected 'weekly' or 'daily', got {cfg.frequency!r}")
        for key in ("start", "end"):
            try:
                pd.Timestamp(getattr(cfg, key))
            except (ValueError, TypeError) as e:
                raise ParamsError(f"{section}.{key}: expected a date YYYY-MM-DD, got {getattr(cfg, key)!r}") from e
            # YAML turns an unquoted 2019-01-01 into a date object: keep the config a plain string.
            setattr(cfg, key, pd.Timestamp(getattr(cfg, key)).strftime("%Y-%m-%d"))
        if pd.Timestamp(cfg.end) <= pd.Timestamp(cfg.start):
            raise ParamsError(f"{section}.end: must be after {section}.start")
        if cfg.tables is not None and not Path(cfg.tables).exists():
            raise ParamsError(f"{section}.tables: file {cfg.tables} not found")
        return cfg

    def days(self) -> pd.DatetimeIndex:
        """Simulated days: whole Monday-start weeks for weekly output."""
        start, end = pd.Timestamp(self.start), pd.Timestamp(self.end)
        if self.frequency == "weekly":
            start -= pd.Timedelta(days=start.dayofweek)
            end += pd.Timedelta(days=6 - end.dayofweek)
        return pd.date_range(start, end, freq="D")

    def series_spec(self) -> SeriesSpec:
        days = self.days()
        n = len(days) // 7 if self.frequency == "weekly" else len(days)
        return SeriesSpec(self.frequency, days[0].strftime("%Y-%m-%d"), n)


@lru_cache(maxsize=4)
def _load_tables(path: str) -> dict[str, Any]:
    return yaml.safe_load(Path(path).read_text())


def load_tables(cfg: SimulatorConfig) -> dict[str, Any]:
    return _load_tables(str(cfg.tables or TABLES))


# ---------------------------------------------------------------------------- schema
def simulator_schema(cfg: SimulatorConfig) -> Schema:
    t = load_tables(cfg)
    c = Column
    cols = [
        c("customer_id", "id"),
        c("region", "categorical", categories=sorted(t["regions"])),
        c("climate_zone", "categorical", categories=ZONES),
        c("urban_area", "boolean"),
        c("household_size", "integer", nullable=True, min=1, max=8),
        c("age_band", "categorical", categories=AGES),
        c("housing_type", "categorical", categories=["apartment", "house"]),
        c("surface_m2", "numerical", nullable=True, min=5, max=5000),
        c("n_rooms", "integer", nullable=True, min=1, max=15),
        c("construction_period", "categorical", nullable=True, categories=PERIODS),
        c("occupancy_status", "categorical", nullable=True, categories=OCCUPANCY),
        c("energy_label", "categorical", nullable=True, categories=LABELS),
        c("heating_energy", "categorical", nullable=True, categories=HEATING),
        c("secondary_wood_stove", "boolean", nullable=True),
        c("electric_water_heater", "boolean", nullable=True),
        c("ev", "boolean", nullable=True),
        c("pool", "boolean", nullable=True),
        c("air_conditioning", "boolean", nullable=True),
        c("pv_self_consumption", "boolean", nullable=True),
        c("subscribed_kva", "integer", min=3, max=36),
        c("tariff_option", "categorical", categories=TARIFFS),
        c("contract_start_date", "date"),
        c("contract_end_date", "date", nullable=True),
        c("payment_method", "categorical", nullable=True, categories=PAYMENT),
        c("offer", "categorical", categories=["market", "regulated"]),
        c("payment_incidents_12m", "integer", min=0, max=20),
        c("financial_ease", "categorical", nullable=True, categories=EASE, target=True),
        c("electric_heating", "boolean", target=True),
    ]
    return Schema(columns=cols, series=cfg.series_spec())


# ---------------------------------------------------------------------------- temperature
def temperature(cfg: SimulatorConfig) -> pd.DataFrame:
    """Daily mean temperature per climate zone: seasonal cycle + AR(1) anomalies, partly shared
    across zones (weather systems are national in scale)."""
    t = load_tables(cfg)["climate"]
    days = cfg.days()
    rng = np.random.default_rng([cfg.seed, 10**9])
    phi, sd = t["anomaly_phi"], t["anomaly_sd"]
    shocks = rng.standard_normal((len(days), 1)) * 0.8 + rng.standard_normal((len(days), 3)) * 0.6
    anomaly = np.zeros((len(days), 3))
    anomaly[0] = shocks[0] * sd
    for i in range(1, len(days)):
        anomaly[i] = phi * anomaly[i - 1] + np.sqrt(1 - phi**2) * sd * shocks[i]
    doy = days.dayofyear.to_numpy()
    # Coldest around 15 January, warmest around mid-July.
    season = -np.cos(2 * np.pi * (doy - 15) / 365.25)
    temps = np.column_stack([t[z]["mean"] + t[z]["amplitude"] * season for z in ZONES]) + anomaly
    return pd.DataFrame({"date": np.repeat(days, 3), "climate_zone": np.tile(ZONES, len(days)),
                         "temperature_c": temps.ravel().round(2)})


# ---------------------------------------------------------------------------- customers
def _choice(rng: np.random.Generator, options: list, probs: np.ndarray) -> np.ndarray:
    """Row-wise categorical draw from unnormalised probabilities of shape (n, k)."""
    p = np.asarray(probs, dtype=float)
    p = p / p.sum(axis=1, keepdims=True)
    idx = (rng.random((len(p), 1)) > np.cumsum(p, axis=1)).sum(axis=1)
    return np.asarray(options, dtype=object)[np.minimum(idx, len(options) - 1)]


def _draw(rng: np.random.Generator, shares: dict[str, float], n: int) -> np.ndarray:
    keys = list(shares)
    p = np.array([shares[k] for k in keys], dtype=float)
    return np.asarray(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _customers_block(cfg: SimulatorConfig, block: int, n: int) -> dict[str, np.ndarray]:
    """True attributes of one block of customers (no defects yet)."""
    t = load_tables(cfg)
    rng = np.random.default_rng([cfg.seed, block])
    out: dict[str, np.ndarray] = {}
    regions = t["regions"]
    region = _draw(rng, {k: v["weight"] for k, v in regions.items()}, n)
    zone = np.empty(n, dtype=object)
    urban = np.zeros(n, dtype=bool)
    for name, r in regions.items():
        m = region == name
        zone[m] = _draw(rng, r["zones"], int(m.sum()))
        urban[m] = rng.random(int(m.sum())) < r["urban"]
    age = _draw(rng, t["age_bands"], n)
    hh = np.empty(n, dtype=np.int64)
    for band, probs in t["household_size_by_age"].items():
        m = age == band
        hh[m] = rng.choice(5, size=int(m.sum()), p=np.array(probs) / sum(probs)) + 1
    big = hh == 5
    hh[big] += rng.geometric(0.6, size=int(big.sum())) - 1
    hh = np.minimum(hh, 8)

    # Income: log living standard; older, Parisian and smaller households richer [assumption].
    age_eff = pd.Series(age).map({"<30": -0.18, "30-44": -0.02, "45-59": 0.06, "60-74": 0.08, "75+": 0.0}).to_numpy(float)
    log_inc = np.log(t["income"]["median"]) + age_eff + 0.12 * (region == "ile_de_france") - 0.01
    log_inc = log_inc + rng.normal(0, t["income"]["sigma_log"], n)
    inc_z = (log_inc - np.log(t["income"]["median"])) / t["income"]["sigma_log"]
    units = 1 + 0.5 * np.maximum(np.minimum(hh, 2) - 1, 0) + 0.4 * np.maximum(hh - 2, 0)
    income = np.exp(log_inc) * units   # household disposable income, €/yr

    occ_w = t["occupancy"]
    old = np.isin(age, ["60-74", "75+"]).astype(float)
    young = (age == "<30").astype(float)
    scores = np.column_stack([
        np.log(occ_w["owner"]) + 0.9 * inc_z + 0.9 * old - 1.2 * young,
        np.log(occ_w["private_tenant"]) + 0.1 * inc_z + 1.0 * young,
        np.log(occ_w["social_tenant"]) - 1.0 * inc_z,
        np.log(occ_w["rent_free"]) + np.zeros(n),
    ])
    scores += np.array([-0.1, 0.0, -0.3, 0.3])   # re-centres the marginals on the targets
    occ = _choice(rng, OCCUPANCY, np.exp(scores))
    owner = occ == "owner"

    house_logit = 0.30 + 1.6 * owner - 1.6 * urban + 0.35 * (hh >= 3) - 1.0 * (occ == "social_tenant") \
        - 1.5 * (region == "ile_de_france") + 0.75
    housing = np.where(rng.random(n) < _sigmoid(house_logit), "house", "apartment").astype(object)
    house = housing == "house"
    s = t["surface"]
    med = np.where(house, s["house"]["median"], s["apartment"]["median"]) * (1 + 0.06 * (np.minimum(hh, 5) - 2)) \
        * np.exp(0.06 * inc_z)
    surface = med * np.exp(rng.normal(0, np.where(house, s["house"]["sigma_log"], s["apartment"]["sigma_log"])))
    surface = np.clip(surface, 9, 600).round(1)
    rooms = np.clip(np.round(surface / 24 + rng.normal(0.1, 0.6, n)), 1, 15).astype(np.int64)

    cp = t["construction_period"]
    base_p = np.array([cp[p] for p in PERIODS])
    tilt = np.where(house[:, None], np.array([1.0, 0.8, 1.1, 1.2, 1.3, 1.3]), np.array([1.0, 1.25, 0.9, 0.8, 0.7, 0.7]))
    period = _choice(rng, PERIODS, base_p * tilt)
    pidx = pd.Index(PERIODS).get_indexer(period)

    hs = t["heating_shares"]
    kinds = ["electric", "gas", "fuel_oil", "district", "wood", "other"]
    ph = np.where(house[:, None], [hs["house"][k] for k in kinds], [hs["apartment"][k] for k in kinds]).astype(float)
    recent = pidx >= 4
    ph[:, 0] *= np.where(recent, 2.0, np.where(pidx == 3, 1.15, 0.82))   # electric twice as frequent in new homes (ADEME)
    ph[:, 2] *= np.where(urban, 0.5, 1.6) * np.where(recent, 0.1, 1.0)  # oil: rural, old
    ph[:, 4] *= np.where(urban, 0.5, 1.8)
    kind = _choice(rng, kinds, ph)
    hp_p = np.where(house & (pidx >= 3), t["heat_pump_share_of_electric"]["recent_house"],
                    t["heat_pump_share_of_electric"]["other"])
    heating = kind.copy()
    elec = kind == "electric"
    heating[elec] = np.where(rng.random(int(elec.sum())) < hp_p[elec], "heat_pump", "electric_direct")
    electric_heating = np.isin(heating, ["electric_direct", "heat_pump"])

    eq = t["equipment"]
    ewh_p = pd.Series(np.where(electric_heating, "electric", heating)).map(eq["electric_water_heater"]).fillna(0.5).to_numpy(float)
    ewh = rng.random(n) < ewh_p
    stove = rng.random(n) < np.where(house, eq["secondary_wood_stove"]["house"], eq["secondary_wood_stove"]["apartment"])
    stove &= heating != "wood"
    ac_p = pd.Series(zone).map({z: eq["air_conditioning"][z] for z in ZONES}).to_numpy(float)
    ac = rng.random(n) < np.clip(ac_p + eq["air_conditioning"]["heat_pump_bonus"] * (heating == "heat_pump"), 0, 1)
    pool_p = pd.Series(zone).map(eq["pool_house"]).to_numpy(float) * house * np.exp(0.35 * inc_z)
    pool = rng.random(n) < np.clip(pool_p, 0, 0.6)
    ev = rng.random(n) < np.clip(eq["ev"] * 1.3 * house * np.exp(0.5 * inc_z), 0, 0.3)
    pv = rng.random(n) < np.clip(eq["pv_self_consumption"] * 3 * house * owner * (1 + (zone == "H3")) * np.exp(0.3 * inc_z), 0, 0.2)

    # Heating physics and usage, used both for consumption and for kVA / tariff / burden.
    c = t["consumption"]
    u = pd.Series(period).map(t["u_value_kwh_per_dd_m2"]).to_numpy(float)
    k_heat = surface * u * np.where(house, 1.0, t["apartment_heat_factor"]) * np.exp(rng.normal(0, c["heat_sigma_log"], n))
    # Energy label (DPE): envelope quality per m², worse with direct electric heating (primary
    # energy factor 2.3), better with a heat pump; cut at the target class shares.
    lt = t["energy_label"]
    label_score = np.log(k_heat / surface) + lt["electric_direct_shift"] * (heating == "electric_direct") \
        + lt["heat_pump_shift"] * (heating == "heat_pump") + rng.normal(0, lt["noise_sd"], n)
    label = np.asarray(LABELS, dtype=object)[np.searchsorted(lt["thresholds"], label_score)]
    k_heat *= np.where(stove, rng.uniform(0.5, 0.7, n), 1.0)
    aux = (~electric_heating) & (rng.random(n) < 0.15)   # auxiliary electric heaters in non-electric homes
    k_elec = np.where(electric_heating, k_heat, np.where(aux, 0.08 * k_heat, 0.0))
    t_thr = rng.normal(c["heat_threshold_mean"], c["heat_threshold_sd"], n)
    base_kwh = (c["base_kwh_first_person"] + c["base_kwh_per_extra_person"] * (hh - 1) ** 0.8) \
        * (surface / 80) ** 0.3 * np.exp(rng.normal(0, c["base_sigma_log"], n))
    dd = pd.Series(zone).map({"H1": 2300, "H2": 1950, "H3": 1300}).to_numpy(float)  # DD above threshold ≈ DJU − margin
    cop = np.where(heating == "heat_pump", 2.7, 1.0)
    expected = base_kwh + k_elec * dd / cop + ewh * 800 * hh + ev * 2400 + pool * 1200

    # Financial ease: income vs energy burden, tenancy and age [assumption, research §3.4].
    other_energy = np.where(electric_heating, 0, k_heat * dd * 0.09)   # gas/oil bill, €
    burden = (expected * t["financial_ease"]["price_eur_per_kwh"] + other_energy) / income
    z = 1.0 * inc_z - 6.0 * burden + 0.35 * owner - 0.45 * (occ == "social_tenant") + 0.15 * old \
        + rng.normal(0, 0.45, n)
    ease = np.asarray(EASE, dtype=object)[np.searchsorted(t["financial_ease"]["thresholds"], z)]
    # Energy-poor households under-heat (lower threshold, smaller gradient): a real, detectable signal.
    under_heat = (ease == "very_difficult") & (rng.random(n) < 0.7)
    k_elec = np.where(under_heat, 0.7 * k_elec, k_elec)
    t_thr = np.where(under_heat, t_thr - 1.5, t_thr)
    incidents = rng.poisson(pd.Series(ease).map({"very_difficult": 0.9, "difficult": 0.3, "ok": 0.05,
                                                  "comfortable": 0.01}).to_numpy(float))

    # Subscribed power follows the peak load: electric heating by surface, EV and pool add on
    # (rules of thumb in research §1.1); energy-poor households pick a lower step.
    kc = t["kva"]
    kva_need = (kc["base"] + kc["per_person"] * hh + kc["ewh"] * ewh + kc["ev"] * ev + kc["pool"] * pool
                + surface * (kc["electric_direct_per_m2"] * (heating == "electric_direct")
                             + kc["heat_pump_per_m2"] * (heating == "heat_pump"))) \
        * np.exp(rng.normal(0, kc["noise_sigma"], n)) * np.where(ease == "very_difficult", kc["low_income_factor"], 1.0) \
        + 14 * (house & (surface > 180) & (rng.random(n) < 0.05))   # a few farms and large houses
    steps = np.array(t["kva_steps"])
    kva = steps[np.clip(np.searchsorted(steps, kva_need), 0, len(steps) - 1)]

    window_end = pd.Timestamp(cfg.end)
    tenure = rng.exponential(np.where(owner, t["tenure_years"]["owner"], t["tenure_years"]["tenant"]), n)
    start = window_end - pd.to_timedelta(np.round(tenure * 365.25), unit="D")
    start = np.maximum(start.to_numpy(dtype="datetime64[D]"), np.datetime64("1990-01-01"))
    start = pd.DatetimeIndex(start.astype("datetime64[s]"))
    ends_rate = t["defects"]["contract_end_rate_per_year"]
    window_years = (window_end - pd.Timestamp(cfg.start)).days / 365.25
    ended = rng.random(n) < ends_rate * window_years * 0.5
    span_days = (window_end - np.maximum(start, pd.Timestamp(cfg.start))).days.to_numpy()
    end_offset = (rng.random(n) * np.maximum(span_days, 1)).astype(int)
    end = np.where(ended & (span_days > 60),
                   (np.maximum(start, pd.Timestamp(cfg.start)) + pd.to_timedelta(end_offset, unit="D")).to_numpy(),
                   np.datetime64("NaT"))

    tt = t["tariff"]["targets"]
    old_contract = start < pd.Timestamp(t["tariff"]["ejp_before"])
    s_base = np.log(tt["BASE"]) + np.zeros(n) + 0.4 * (~ewh) + 0.4 * (~electric_heating)
    s_hphc = np.log(tt["HPHC"]) + 0.9 * ewh + 0.6 * electric_heating - 0.25
    s_tempo = np.log(tt["TEMPO"]) + 1.2 * (electric_heating & (stove | (heating == "heat_pump"))) + 0.4 * (expected > 9000) + 0.2
    s_ejp = np.where(old_contract, np.log(tt["EJP"]) + 0.8 * electric_heating + 2.0, -np.inf)
    tariff = _choice(rng, TARIFFS, np.exp(np.column_stack([s_base, s_hphc, s_tempo, s_ejp])))

    regulated = rng.random(n) < _sigmoid(np.log(t["offer_regulated"] / (1 - t["offer_regulated"])) - 0.2
                                         + 0.06 * ((pd.Timestamp(cfg.end) - start).days.to_numpy() / 365.25 - 8))
    pay_p = np.column_stack([np.full(n, t["payment"]["monthly_direct_debit"]) * np.exp(0.25 * inc_z),
                             np.full(n, t["payment"]["direct_debit_on_bill"]),
                             np.full(n, t["payment"]["other"]) * np.exp(0.6 * (ease == "very_difficult") + 0.5 * (age == "75+"))])
    payment = _choice(rng, PAYMENT, pay_p)

    out.update(
        region=region, climate_zone=zone, urban_area=urban, household_size=hh, age_band=age,
        housing_type=housing, surface_m2=surface, n_rooms=rooms, construction_period=period,
        occupancy_status=occ, energy_label=label, heating_energy=heating, secondary_wood_stove=stove,
        electric_water_heater=ewh, ev=ev, pool=pool, air_conditioning=ac, pv_self_consumption=pv,
        subscribed_kva=kva, tariff_option=tariff, contract_start_date=start.to_numpy(),
        contract_end_date=end, payment_method=payment, offer=np.where(regulated, "regulated", "market").astype(object),
        payment_incidents_12m=np.minimum(incidents, 20), financial_ease=ease, electric_heating=electric_heating,
        # latent, for consumption and ground truth
        income_decile=np.clip(np.floor(_norm_cdf(inc_z) * 10) + 1, 1, 10).astype(int), k_heat=k_elec,
        t_threshold=t_thr, base_kwh=base_kwh, expected_kwh=expected, under_heating=under_heat,
        ease_score=z, label_score=label_score, energy_burden=burden, income_eur=income,
    )
    return out


def _norm_cdf(x: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr

    return ndtr(x)



# ---------------------------------------------------------------------------- consumption
def _easter(year: int) -> pd.Timestamp:
    """Gregorian Easter Sunday (anonymous algorithm): no holiday package is allowed offline."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    q = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * q + 114, 31)
    return pd.Timestamp(year, month, day + 1)


def public_holidays(days: pd.DatetimeIndex) -> np.ndarray:
    """French public holidays: fixed dates plus Easter Monday, Ascension and Whit Monday."""
    moving = [_easter(y) + pd.Timedelta(days=k) for y in np.unique(days.year) for k in (1, 39, 50)]
    return np.isin(days.strftime("%m-%d"), FIXED_HOLIDAYS) | days.isin(moving)


def _calendar(cfg: SimulatorConfig, temps: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per-day factors shared by all customers (computed once per run)."""
    t = load_tables(cfg)["consumption"]
    days = cfg.days()
    doy = days.dayofyear.to_numpy()
    tz = temps.pivot(index="date", columns="climate_zone", values="temperature_c")[ZONES].to_numpy()
    # Building inertia: heating responds to an exponentially smoothed temperature.
    smooth = tz.copy()
    for i in range(1, len(smooth)):
        smooth[i] = 0.5 * smooth[i - 1] + 0.5 * tz[i]
    # Public holidays and the Christmas school break: more time at home.
    holiday = public_holidays(days) | ((days.month == 12) & (days.day >= 21)) | ((days.month == 1) & (days.day <= 3))
    week = np.where(days.dayofweek >= 5, t["weekend_factor"], 1.0) * np.where(holiday, 1.05, 1.0)
    season = 1 + t["season_amplitude"] * np.cos(2 * np.pi * (doy - 355) / 365.25)
    lock = np.zeros(len(days))
    for ld in t["lockdowns"]:
        lock[(days >= ld["start"]) & (days <= ld["end"])] = ld["amplitude"]
    # Tempo red days: the 22 coldest weekdays of each November–March season (H1 temperature).
    red = np.zeros(len(days), dtype=bool)
    winter_id = np.where(days.month >= 11, days.year, np.where(days.month <= 3, days.year - 1, -1))
    for w in np.unique(winter_id[winter_id >= 0]):
        cand = np.flatnonzero((winter_id == w) & (days.dayofweek < 5))
        red[cand[np.argsort(tz[cand, 0])[: t["tempo_red_days"]]]] = True
    years = (days - days[0]).days.to_numpy() / 365.25
    return {"temp": tz, "smooth": smooth, "week": week, "season": season, "lock": lock, "red": red,
            "dhw": 1 + 0.25 * np.cos(2 * np.pi * (doy - 15) / 365.25),
            "pool": ((doy >= 135) & (doy <= 258)).astype(float),
            "summer": np.clip(np.sin(np.pi * (doy - 80) / 185), 0, None),
            "ev": np.where(days.dayofweek < 5, 1.1, 0.75) * np.where(days.month == 8, 0.6, 1.0),
            "drift": (1 + t["efficiency_drift_per_year"]) ** years, "july_aug": np.isin(days.month, [7, 8]),
            # Winter school break, staggered over zones A/B/C: roughly 8 Feb - 8 Mar [approximation].
            "february": ((days.month == 2) & (days.day >= 8)) | ((days.month == 3) & (days.day <= 8)),
            "year": days.year.to_numpy(), "days": days}


def _daily_kwh(cfg: SimulatorConfig, cust: dict[str, np.ndarray], cal: dict[str, np.ndarray],
               rng: np.random.Generator) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """customers × days kWh (float32) and the per-customer latent effects for ground truth."""
    t = load_tables(cfg)["consumption"]
    n, d = len(cust["region"]), len(cal["days"])
    zi = pd.Index(ZONES).get_indexer(cust["climate_zone"])
    f32 = np.float32
    base = (cust["base_kwh"] / 365.0).astype(f32)[:, None] * (cal["week"] * cal["season"] * cal["drift"]).astype(f32)
    hp = cust["heating_energy"] == "heat_pump"
    temp = cal["temp"].T[zi].astype(f32)
    gap = np.maximum(cust["t_threshold"].astype(f32)[:, None] - cal["smooth"].T[zi].astype(f32), 0)
    cp = t["cop"]
    cop = np.where(hp[:, None], np.clip(cp["intercept"] + cp["slope"] * temp, cp["min"], cp["max"]), f32(1.0)).astype(f32)
    heat = cust["k_heat"].astype(f32)[:, None] * gap / cop
    kwh = base + heat
    persons = cust["household_size"].astype(f32)
    kwh += (cust["electric_water_heater"] * t["dhw_kwh_per_person_day"] * persons).astype(f32)[:, None] * cal["dhw"].astype(f32)
    ac_c = np.where(cust["air_conditioning"], rng.uniform(0.3, 1.0, n) * np.where(zi == 2, 1.0, 0.5), 0).astype(f32)
    kwh += ac_c[:, None] * np.maximum(temp - 24, 0)
    kwh += (cust["ev"] * t["ev_kwh_day"]).astype(f32)[:, None] * cal["ev"].astype(f32)
    kwh += (cust["pool"] * t["pool_kwh_day"]).astype(f32)[:, None] * cal["pool"].astype(f32)
    kwh -= (cust["pv_self_consumption"].astype(f32)[:, None] * base * (0.05 + 0.25 * cal["summer"]).astype(f32))

    # Summer absence: ~14 days in July–August for most households, consumption falls to 40 %.
    away = np.zeros((n, d), dtype=bool)
    # Families (3+ persons) also leave for a week of the February break (skiing) [assumption].
    family = cust["household_size"] >= 3
    for year in np.unique(cal["year"]):
        for window, share, length in ((cal["july_aug"], t["summer_absence_prob"], 14),
                                      (cal["february"], t["february_absence_prob"] * family, 7)):
            span = np.flatnonzero(window & (cal["year"] == year))
            if len(span) < 2 * length:
                continue
            goes = rng.random(n) < share
            first = span[0] + rng.integers(0, len(span) - length + 1, n)
            cols = first[:, None] + np.arange(length)
            rows = np.repeat(np.arange(n), length).reshape(n, length)
            away[rows[goes], cols[goes]] = True
    kwh = np.where(away, kwh * f32(t["summer_absence_factor"]), kwh)

    # Lockdowns: teleworkers use more at home, some urban apartment dwellers left.
    young = np.isin(cust["age_band"], ["<30", "30-44", "45-59"])
    teleworker = young & (rng.random(n) < t["teleworker_share"])
    left = (cust["housing_type"] == "apartment") & cust["urban_area"] & (rng.random(n) < t["left_share_urban_apartments"]) & ~teleworker
    lock = cal["lock"].astype(f32)[None, :]
    uplift = np.where(teleworker, rng.uniform(*t["teleworker_uplift"], n), 0.0)
    factor = 1 + uplift[:, None] * lock - left[:, None] * t["left_drop"] * lock
    kwh *= factor.astype(f32)
    tempo = cust["tariff_option"] == "TEMPO"
    kwh[np.ix_(tempo, cal["red"])] *= f32(t["tempo_red_factor"])

    # Multiplicative AR(1) noise and rare level shifts (a move, a new occupant).
    eps = rng.standard_normal((n, d)).astype(f32) * f32(t["noise_sd"] * np.sqrt(1 - t["noise_phi"] ** 2))
    for j in range(1, d):
        eps[:, j] += f32(t["noise_phi"]) * eps[:, j - 1]
    kwh *= np.exp(eps)
    years = d / 365.25
    shift = rng.random(n) < load_tables(cfg)["defects"]["level_shift_share_per_year"] * years
    when = rng.integers(0, d, n)
    mult = np.where(rng.random(n) < 0.5, 0.6, 1.5)
    cols = np.arange(d)[None, :]
    kwh = np.where(shift[:, None] & (cols >= when[:, None]), kwh * mult[:, None].astype(f32), kwh)
    np.maximum(kwh, 0, out=kwh)
    latent = {"teleworker": teleworker, "left_during_lockdown": left,
              "lockdown1_factor": (1 + uplift - left * t["left_drop"]).round(4), "level_shift": shift,
              "level_shift_day": np.where(shift, when, -1)}
    return kwh.astype(f32), latent


def _aggregate(kwh: np.ndarray, frequency: str) -> np.ndarray:
    if frequency == "daily":
        return kwh.astype(np.float64)
    n, d = kwh.shape
    return kwh.reshape(n, d // 7, 7).sum(axis=2, dtype=np.float64)


# ---------------------------------------------------------------------------- defects
def _observed(cfg: SimulatorConfig, cust: dict[str, np.ndarray], series: np.ndarray,
              rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray, dict[str, np.ndarray]]:
    """Apply the data defects: what a supplier's CRM and meters would actually hold."""
    t = load_tables(cfg)["defects"]
    n, p = series.shape
    df = pd.DataFrame({k: cust[k] for k in simulator_schema_names()[1:]})
    start = pd.DatetimeIndex(cust["contract_start_date"])
    old = np.asarray(start < pd.Timestamp("2010-01-01"))
    tenant = np.isin(cust["occupancy_status"], ["private_tenant", "social_tenant"])

    def blank(col: str, prob: np.ndarray | float) -> None:
        mask = rng.random(n) < prob
        if df[col].dtype.kind != "f":
            df[col] = df[col].astype(object)
        df.loc[mask, col] = np.nan if df[col].dtype.kind == "f" else None

    blank("surface_m2", np.where(old, 0.15, 0.03) + 0.05 * tenant)                 # MAR: CRM migration, tenants
    blank("construction_period", np.where(old, 0.15, 0.03))                         # MAR
    blank("occupancy_status", np.where(old, 0.10, 0.02))                            # MAR
    blank("household_size", 0.03)                                                   # MCAR
    blank("n_rooms", 0.05)                                                          # MCAR
    blank("energy_label", 0.30)                                                     # MCAR: no diagnosis on file
    for col in ("electric_water_heater", "ev", "pool", "air_conditioning", "pv_self_consumption", "secondary_wood_stove"):
        blank(col, np.where(tenant, 0.20, 0.05))                                    # MAR: tenants answer less
    blank("payment_method", np.where(cust["offer"] == "market", 0.15, 0.0))         # MAR: partner-acquired contracts
    blank("financial_ease", np.where(cust["financial_ease"] == "very_difficult", 0.40, 0.10))   # MNAR

    # Declared heating: stale for ~8 % (e.g. a heat pump installed since), missing more often
    # for non-electric homes (MNAR: the electricity supplier cares less).
    declared = cust["heating_energy"].copy()
    stale = rng.random(n) < t["stale_heating_share"]
    swap = {"heat_pump": "electric_direct", "electric_direct": "gas", "gas": "electric_direct",
            "fuel_oil": "heat_pump", "wood": "electric_direct", "district": "gas", "other": "gas"}
    declared[stale] = pd.Series(declared[stale]).map(swap).to_numpy()
    df["heating_energy"] = declared
    blank("heating_energy", np.where(cust["electric_heating"], 0.05, 0.15))

    typo = rng.random(n) < t["surface_typo_share"]
    df.loc[typo & df["surface_m2"].notna().to_numpy(), "surface_m2"] *= 10

    # Series: active window, vacant homes, meter catch-up spikes, communication gaps.
    grid = cfg.series_spec().periods
    step = 7 if cfg.frequency == "weekly" else 1
    period_end = grid + pd.Timedelta(days=step - 1)
    begins = start.to_numpy()[:, None] <= period_end.to_numpy()[None, :]
    end = pd.DatetimeIndex(cust["contract_end_date"])
    ends = np.asarray(end.isna())[:, None] | (end.to_numpy()[:, None] >= grid.to_numpy()[None, :])
    series = np.where(begins & ends, series, np.nan)
    vacant = rng.random(n) < t["vacant_share"]
    series[vacant] *= rng.uniform(0.01, 0.05, (int(vacant.sum()), 1))
    catchup = rng.random(n) < t["meter_catchup_share"]
    spike = rng.integers(6, p, n)
    for i in np.flatnonzero(catchup):
        j = spike[i]
        series[i, j - 4 : j] *= 0.3
        series[i, j] *= rng.uniform(10, 50)
    gaps = rng.random(n) < t["meter_gap_share"]
    lead = rng.integers(1, max(2, p // 4), n)
    mask = gaps[:, None] & (np.arange(p)[None, :] < lead[:, None])
    series[mask] = np.nan
    latent = {"vacant": vacant, "meter_catchup": catchup, "meter_catchup_period": np.where(catchup, spike, -1),
              "meter_gap_periods": np.where(gaps, lead, 0), "stale_heating_declared": stale}
    return df, series, latent


def simulator_schema_names() -> list[str]:
    return simulator_schema(SimulatorConfig()).names


# ---------------------------------------------------------------------------- assembly
def _blocks(cfg: SimulatorConfig) -> list[tuple[int, int, int]]:
    """(block index, first customer index, size) for every block."""
    return [(b, b * BLOCK, min(BLOCK, cfg.n_customers - b * BLOCK)) for b in range(-(-cfg.n_customers // BLOCK))]


def _ids(first: int, n: int) -> np.ndarray:
    return np.char.add("C", np.char.zfill(np.arange(first + 1, first + n + 1).astype(str), 7))


def simulate_block(cfg: SimulatorConfig, block: int, first: int, n: int, cal: dict[str, np.ndarray]
                   ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """One block: (customers, consumption long, ground truth)."""
    cust = _customers_block(cfg, block, n)
    rng = np.random.default_rng([cfg.seed, block, 1])
    daily, latent = _daily_kwh(cfg, cust, cal, rng)
    series = _aggregate(daily, cfg.frequency)
    del daily
    table, series, defects = _observed(cfg, cust, series, rng)
    ids = _ids(first, n)
    customers = _typed_customers(cfg, ids, table)
    spec = cfg.series_spec()
    r, c = np.nonzero(~np.isnan(series))
    consumption = pd.DataFrame({"customer_id": pd.array(ids[r], dtype="str"),
                                "period_start": spec.periods[c].as_unit("us"),
                                "kwh": series[r, c].round(3)})
    truth = pd.DataFrame({"customer_id": pd.array(ids, dtype="str"),
                          "heating_energy_true": cust["heating_energy"].astype(str),
                          "income_decile": cust["income_decile"], "k_heat_kwh_per_dd": cust["k_heat"].round(4),
                          "t_threshold_c": cust["t_threshold"].round(3), "base_kwh_per_year": cust["base_kwh"].round(1),
                          "under_heating": cust["under_heating"], "heat_pump_cop": cust["heating_energy"] == "heat_pump",
                          "financial_ease_true": cust["financial_ease"].astype(str), "financial_score": cust["ease_score"].round(4),
                          "energy_burden": cust["energy_burden"].round(4), "income_eur": cust["income_eur"].round(0),
                          "surface_m2_true": cust["surface_m2"], "expected_kwh_per_year": cust["expected_kwh"].round(1),
                          **latent, **defects})
    return customers, consumption, truth


def _typed_customers(cfg: SimulatorConfig, ids: np.ndarray, table: pd.DataFrame) -> pd.DataFrame:
    schema = simulator_schema(cfg)
    out = {"customer_id": pd.array(ids, dtype="str")}
    for col in schema.columns[1:]:
        s = table[col.name]
        if col.kind == "boolean":
            out[col.name] = pd.array(s.astype(object).where(s.notna(), None), dtype="boolean")
        elif col.kind == "integer":
            out[col.name] = pd.array(pd.to_numeric(s), dtype="Int64")
        elif col.kind == "numerical":
            out[col.name] = pd.to_numeric(s).astype(float).to_numpy()
        elif col.kind == "date":
            out[col.name] = pd.to_datetime(s).astype("datetime64[us]").to_numpy()
        else:
            out[col.name] = pd.array(s.astype(object).where(s.notna(), None), dtype="str")
    return pd.DataFrame(out)


def simulate_customers_static(cfg: SimulatorConfig) -> pd.DataFrame:
    """The true customers table without series or defects: fast, for calibration checks."""
    parts = [pd.DataFrame(_customers_block(cfg, b, n)) for b, _, n in _blocks(cfg)]
    return pd.concat(parts, ignore_index=True)


def simulate_portfolio(cfg: SimulatorConfig) -> Portfolio:
    """In memory; for tests and small portfolios (use simulate_to_folder for large ones)."""
    temps = temperature(cfg)
    cal = _calendar(cfg, temps)
    parts = [simulate_block(cfg, b, first, n, cal) for b, first, n in _blocks(cfg)]
    customers = pd.concat([p[0] for p in parts], ignore_index=True)
    consumption = pd.concat([p[1] for p in parts], ignore_index=True)
    return Portfolio(customers, consumption, simulator_schema(cfg))


def simulate_ground_truth(cfg: SimulatorConfig) -> pd.DataFrame:
    cal = _calendar(cfg, temperature(cfg))
    return pd.concat([simulate_block(cfg, b, f, n, cal)[2] for b, f, n in _blocks(cfg)], ignore_index=True)


def simulate_to_folder(cfg: SimulatorConfig, folder: str | Path) -> None:
    """Stream the portfolio to Parquet, ``chunk_size`` customers at a time, atomically."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    temps = temperature(cfg)
    cal = _calendar(cfg, temps)
    tmp = Path(tempfile.mkdtemp(dir=folder, prefix=".simulate."))
    writers: dict[str, pq.ParquetWriter] = {}
    try:
        blocks = _blocks(cfg)
        per_chunk = max(1, cfg.chunk_size // BLOCK)
        for i in range(0, len(blocks), per_chunk):
            parts = [simulate_block(cfg, b, f, n, cal) for b, f, n in blocks[i : i + per_chunk]]
            for name, k in (("customers", 0), ("consumption", 1), ("ground_truth", 2)):
                table = pa.Table.from_pandas(pd.concat([p[k] for p in parts], ignore_index=True), preserve_index=False)
                if name not in writers:
                    writers[name] = pq.ParquetWriter(tmp / f"{name}.parquet", table.schema)
                writers[name].write_table(table)
        for w in writers.values():
            w.close()
        temps.to_parquet(tmp / "temperature.parquet", index=False)
        # The Tempo calendar is public (RTE announces each red day the day before): a supplier
        # has it beside its portfolio, and the studies and series covariates read it.
        pd.DataFrame({"date": cal["days"], "tempo_red": cal["red"]}).to_parquet(tmp / "calendar.parquet", index=False)
        simulator_schema(cfg).save(tmp / SCHEMA_FILE)
        for name in (CUSTOMERS_FILE, CONSUMPTION_FILE, "ground_truth.parquet", "temperature.parquet",
                     "calendar.parquet", SCHEMA_FILE):
            os.replace(tmp / name, folder / name)
    finally:
        for w in writers.values():
            w.close()
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------- overview figure
# (label, target share from research/portfolio-figures.md, how to compute it on the customers table)
OVERVIEW_TARGETS = [
    ("electric heating", 0.37, lambda c: c.electric_heating.mean()),
    ("houses", 0.565, lambda c: (c.housing_type == "house").mean()),
    ("HP/HC tariff", 0.44, lambda c: (c.tariff_option == "HPHC").mean()),
    ("6 kVA", 0.45, lambda c: (c.subscribed_kva == 6).mean()),
    ("9 kVA", 0.30, lambda c: (c.subscribed_kva == 9).mean()),
    ("air conditioning", 0.25, lambda c: c.air_conditioning.mean()),
    ("electric water heater", 0.48, lambda c: c.electric_water_heater.mean()),
    ("owners", 0.58, lambda c: c.occupancy_status.dropna().eq("owner").mean()),
    ("H1 / H2 / H3: H1", 0.50, lambda c: (c.climate_zone == "H1").mean()),
    ("H1 / H2 / H3: H2", 0.38, lambda c: (c.climate_zone == "H2").mean()),
    ("H1 / H2 / H3: H3", 0.12, lambda c: (c.climate_zone == "H3").mean()),
    ("one-person households", 0.37, lambda c: (c.household_size == 1).mean()),
    ("financial ease: very difficult (true)", 0.119, lambda c: c.financial_ease_true.eq("very_difficult").mean()),
    ("  same, observed (MNAR missing)", 0.119, lambda c: c.financial_ease.dropna().eq("very_difficult").mean()),
]


def plot_overview(folder: str | Path, out_png: str | Path, max_customers: int = 20000) -> None:
    """The simulated portfolio at a glance, from a folder written by :func:`simulate_to_folder`.

    Weekly mean kWh by true heating energy (lockdowns shaded), daily temperature per zone, the
    2020/2019 lockdown response of teleworkers vs households who left, and simulated vs target
    shares (shares of the observed table, among non-missing values). Reads at most
    ``max_customers`` customers' series so that it also works on a 1M-customer folder.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    import pyarrow.compute as pc

    folder = Path(folder)
    customers = pd.read_parquet(folder / CUSTOMERS_FILE)
    truth = pd.read_parquet(folder / "ground_truth.parquet")
    temps = pd.read_parquet(folder / "temperature.parquet")
    ids = truth.customer_id.iloc[:max_customers]
    table = pq.read_table(folder / CONSUMPTION_FILE, filters=pc.field("customer_id").isin(pa.array(ids.to_numpy())))
    cons = table.to_pandas().merge(truth, on="customer_id")
    lockdowns = load_tables(SimulatorConfig())["consumption"]["lockdowns"]

    fig, ax = plt.subplots(2, 2, figsize=(15, 9.5))
    a = ax[0, 0]
    group = cons.heating_energy_true.where(cons.heating_energy_true.isin(["electric_direct", "heat_pump", "gas"]),
                                           "other non-electric")
    weekly = cons.assign(group=group).groupby(["period_start", "group"]).kwh.mean().unstack()
    for g in ["electric_direct", "heat_pump", "gas", "other non-electric"]:
        a.plot(weekly.index, weekly[g], label=g, lw=1.4)
    for ld in lockdowns:
        a.axvspan(pd.Timestamp(ld["start"]), pd.Timestamp(ld["end"]), color="grey", alpha=0.15 + 0.15 * ld["amplitude"])
    a.set(title="Mean kWh per customer and period, by true heating energy (grey: lockdowns)", ylabel="kWh")
    a.legend()

    a = ax[0, 1]
    tw = temps.pivot(index="date", columns="climate_zone", values="temperature_c")
    for z in ZONES:
        a.plot(tw.index, tw[z].rolling(7, center=True).mean(), label=z, lw=1.2)
    a.axhline(15.5, color="k", ls=":", lw=1)
    a.set(title="Daily mean temperature per zone (7-day mean); dotted: heating threshold", ylabel="°C")
    a.legend()

    a = ax[1, 0]
    nonelec = cons[~cons.heating_energy_true.isin(["electric_direct", "heat_pump"])]
    who = np.select([nonelec.teleworker, nonelec.left_during_lockdown], ["teleworkers", "left the city"], "others")
    wk = nonelec.assign(who=who, week=nonelec.period_start.dt.isocalendar().week.to_numpy(),
                        year=nonelec.period_start.dt.year).groupby(["who", "year", "week"]).kwh.mean()
    for w in ["teleworkers", "left the city", "others"]:
        ratio = (wk[w][2020] / wk[w][2019]).dropna()
        a.plot(ratio.index, ratio.to_numpy(), label=w, lw=1.4)
    a.axvspan(12, 19, color="grey", alpha=0.3)
    a.axhline(1, color="k", lw=0.8)
    a.set(title="Lockdown 1 (weeks 12-19): 2020 / 2019 weekly mean, non-electric heating",
          xlabel="ISO week", ylabel="ratio")
    a.legend()

    a = ax[1, 1]
    names = [n for n, _, _ in OVERVIEW_TARGETS]
    both = customers.merge(truth[["customer_id", "financial_ease_true"]], on="customer_id")
    sim = [float(f(both)) for _, _, f in OVERVIEW_TARGETS]
    tgt = [t for _, t, _ in OVERVIEW_TARGETS]
    y = np.arange(len(names))
    a.barh(y + 0.2, sim, height=0.4, label=f"simulated (n={len(customers):,})")
    a.barh(y - 0.2, tgt, height=0.4, label="target (public figure / [assumption])")
    a.set_yticks(y, names)
    a.invert_yaxis()
    a.set(title="Simulated vs target shares (observed table, non-missing values)", xlabel="share")
    a.legend(loc="lower right")
    for a in (ax[0, 0], ax[0, 1]):
        a.xaxis.set_major_formatter(mdates.ConciseDateFormatter(a.xaxis.get_major_locator()))
    fig.tight_layout()
    Path(out_png).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=110)
    plt.close(fig)


__all__ = ["SimulatorConfig", "simulator_schema", "simulate_portfolio", "simulate_to_folder",
           "simulate_customers_static", "simulate_ground_truth", "temperature", "plot_overview", "asdict"]
