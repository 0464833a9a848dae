"""Post-hoc studies run with the same code on the real portfolio and on each synthetic one.

Every study gives a list of estimates, each with a normal-approximation confidence interval
(``confidence``, 95 % by default) computed over customers:

- ``thermosensitivity[<group>=g]``: mean over the group's customers of their OLS slope of kWh on
  the heating degree days of their climate zone (kWh per degree-day; ``evaluation/series.py``'s
  ``thermosensitivity`` and ``degree_days``); one estimate per heating type;
- ``lockdown_effect``: the relative change of consumption during the first 2020 lockdown. Each
  customer's kWh is regressed on an intercept, his zone's degree days at several bases
  (``degree_day_bases``: a piecewise-linear response, since homes start heating below their own
  threshold, not at 18 °C), an annual harmonic and the share of the period's days in lockdown
  (periods touching the other lockdowns left out), so neither the mild spring of 2020 nor the
  season is read as a lockdown effect; the estimate is the ratio of the summed lockdown
  coefficients to the summed weather-normal consumption of the lockdown periods (a ratio
  estimator: customers near zero consumption cannot blow it up), its interval by the delta
  method;
- ``annual_kwh[tariff_option=X − BASE]`` and ``annual_kwh[subscribed_kva=k − 6]``: differences of
  mean annual kWh between each group and the reference group (Welch standard errors), and
  ``annual_kwh_per_kva``: the OLS slope of annual kWh on subscribed kVA.

The estimates are those the *real* portfolio supports (groups with at least ``min_customers``
customers); a synthetic portfolio that cannot produce one (a group it dropped) fails it.

A synthetic portfolio *reaches the same conclusion* on an estimate when its interval overlaps
the real one and the two conclusions have the same sign: +1 when the interval lies above 0,
−1 below, 0 when it contains 0 (an effect real data finds significant must be found
significant, in the same direction). ``conclusions_preserved`` is the share of estimates where
it does; it feeds the utility pillar of the meta-metric.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from acacia.data.portfolio import Portfolio
from acacia.errors import DataError, ParamsError
from acacia.evaluation.features import labels, series_features_from_matrix
from acacia.evaluation.series import HDD_BASE_C, degree_days, thermosensitivity
from acacia.usecases.common import check_keys, mean_ci

REAL = "real"
DEFAULTS: dict[str, Any] = {
    "confidence": 0.95,
    "min_customers": 30,
    "group_by": "heating_energy",
    "zone_column": "climate_zone",
    "tariff_column": "tariff_option",
    "tariff_reference": "BASE",
    "kva_column": "subscribed_kva",
    "kva_reference": 6,
    # Légifrance dates (the simulator's too); the first is the one studied, the others excluded.
    "lockdowns": [["2020-03-17", "2020-05-10"], ["2020-10-30", "2020-12-15"], ["2021-04-03", "2021-05-03"]],
    # A single 18 °C base reads the spring weather of electrically heated homes as a -10 %
    # lockdown effect on the simulated portfolio; three bases bring it within 1 % of the truth.
    "degree_day_bases": [18, 14, 10],
}
COLUMNS = ["study", "estimate", "unit", "source", "value", "lo", "hi", "n", "sign"]


def config(cfg: dict[str, Any] | None) -> dict[str, Any]:
    c = check_keys(cfg, DEFAULTS, "studies.longitudinal")
    if not 0 < c["confidence"] < 1:
        raise ParamsError(f"studies.longitudinal.confidence: expected a number in (0, 1), got {c['confidence']!r}")
    if not isinstance(c["min_customers"], int) or c["min_customers"] < 2:
        raise ParamsError(f"studies.longitudinal.min_customers: expected an integer ≥ 2, got {c['min_customers']!r}")
    bases = c["degree_day_bases"]
    if not isinstance(bases, list) or not all(isinstance(x, int | float) and not isinstance(x, bool) for x in bases):
        raise ParamsError(f"studies.longitudinal.degree_day_bases: expected a list of temperatures (°C), got {bases!r}")
    try:
        c["lockdowns"] = [(pd.Timestamp(a), pd.Timestamp(b)) for a, b in c["lockdowns"]]
    except (TypeError, ValueError) as e:
        raise ParamsError("studies.longitudinal.lockdowns: expected a list of [start, end] dates") from e
    return c


def _sign(lo: float, hi: float) -> int:
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return 0
    return 1 if lo > 0 else -1 if hi < 0 else 0


def _diff_ci(a: np.ndarray, b: np.ndarray, z: float) -> tuple[float, float, float, int]:
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) < 2 or len(b) < 2:
        return np.nan, np.nan, np.nan, len(a)
    d = float(a.mean() - b.mean())
    se = float(np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b)))
    return d, d - z * se, d + z * se, len(a)


def _slope_ci(x: np.ndarray, y: np.ndarray, z: float) -> tuple[float, float, float, int]:
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 3 or np.ptp(x) == 0:
        return np.nan, np.nan, np.nan, len(x)
    dx = x - x.mean()
    b = float((dx * (y - y.mean())).sum() / (dx**2).sum())
    resid = y - y.mean() - b * dx
    se = float(np.sqrt((resid**2).sum() / (len(x) - 2) / (dx**2).sum()))
    return b, b - z * se, b + z * se, len(x)


def _zone_matrix(hdd: pd.DataFrame, zones: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    x = np.full(shape, np.nan)
    for zone in hdd.columns:
        x[zones == zone] = hdd[zone].to_numpy(dtype=float)[None, :]
    return x


def lockdown_share(periods: pd.DatetimeIndex, start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
    """Share of each period's days that fall in [start, end] (the grid's last period is as long
    as the one before it)."""
    step = periods[1] - periods[0] if len(periods) > 1 else pd.Timedelta(days=1)
    days = (step / pd.Timedelta(days=1))
    first = np.maximum(periods, start)
    last = np.minimum(periods + step - pd.Timedelta(days=1), end)
    return np.clip(((last - first) / pd.Timedelta(days=1) + 1) / days, 0, 1).to_numpy(dtype=float)


def lockdown_terms(mat: np.ndarray, hdd_x: list[np.ndarray], periods: pd.DatetimeIndex,
                   lockdowns: list[tuple[pd.Timestamp, pd.Timestamp]]) -> tuple[np.ndarray, np.ndarray]:
    """Per customer (lockdown coefficient, weather-normal kWh over the lockdown periods);
    ``hdd_x``: customers × periods degree days at each base (empty: no weather term)."""
    share = lockdown_share(periods, *lockdowns[0])
    other = np.zeros(len(periods), dtype=bool)
    for a, b in lockdowns[1:]:
        other |= lockdown_share(periods, a, b) > 0
    n, t = mat.shape
    ok = np.isfinite(mat) & ~other[None, :]
    for h in hdd_x:
        ok &= np.isfinite(h)
    # An annual harmonic absorbs the seasonality degree days do not explain (lighting, summer
    # absence), so the lockdown is read against the same season of the other years.
    angle = 2 * np.pi * periods.day_of_year.to_numpy() / 365.25
    cols = [np.ones((n, t)), *hdd_x, *(np.broadcast_to(f(angle), (n, t)) for f in (np.cos, np.sin)),
            np.broadcast_to(share, (n, t))]
    x = np.stack(cols, -1) * ok[..., None]
    y = np.where(ok, mat, 0.0)
    xtx = np.einsum("ntk,ntl->nkl", x, x)
    xty = np.einsum("ntk,nt->nk", x, y)
    # A customer needs readings both in and out of lockdown for his coefficient to exist.
    inside = (ok & (share > 0)[None, :]).sum(1)
    good = (inside >= 1) & (ok.sum(1) - inside >= x.shape[-1]) & (np.abs(np.linalg.det(xtx)) > 1e-9)
    beta = np.full((n, x.shape[-1]), np.nan)
    if good.any():
        beta[good] = np.linalg.solve(xtx[good], xty[good][..., None])[..., 0]
    weights = share / share.sum() if share.sum() else share
    # Weather-normal consumption of the lockdown periods: every term but the lockdown's.
    design = np.stack(cols[:-1], -1)
    normal = np.einsum("ntk,nk->n", np.nan_to_num(design) * weights[None, :, None], beta[:, :-1])
    return beta[:, -1], normal


def _ratio_ci(num: np.ndarray, den: np.ndarray, z: float) -> tuple[float, float, float, int]:
    ok = np.isfinite(num) & np.isfinite(den)
    num, den = num[ok], den[ok]
    if len(num) < 2 or den.mean() <= 0:
        return np.nan, np.nan, np.nan, len(num)
    r = float(num.sum() / den.sum())
    u = (num - r * den) / den.mean()
    se = float(u.std(ddof=1) / np.sqrt(len(u)))
    return r, r - z * se, r + z * se, len(num)


def _levels(p: Portfolio, column: str, source: str) -> np.ndarray:
    if column not in p.customers:
        raise DataError(f"{source}: study column '{column}' missing from the customers table")
    return labels(p.customers[column], p.schema[column].kind if column in p.schema.names else None)


def estimates(p: Portfolio, cfg: dict[str, Any], temperature: pd.DataFrame | None,
              source: str, groups: dict[str, list[str]] | None = None) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Every study's estimates on one portfolio (rows of :data:`COLUMNS`) and the groups used.

    ``groups`` (from the real portfolio's call) fixes which heating types, tariffs and kVA steps
    are estimated; ``None`` selects those with at least ``min_customers`` customers.
    """
    spec = p.schema.series
    if spec is None:
        raise DataError(f"{source}: the longitudinal studies need consumption series, the schema has none")
    z = float(stats.norm.ppf(0.5 + cfg["confidence"] / 2))
    mat = p.series_matrix()
    periods = spec.periods
    choose = groups is None
    groups = dict(groups or {})
    rows: list[dict[str, Any]] = []

    def add(study: str, estimate: str, unit: str, res: tuple[float, float, float, int]) -> None:
        v, lo, hi, n = res
        rows.append({"study": study, "estimate": estimate, "unit": unit, "source": source, "value": v,
                     "lo": lo, "hi": hi, "n": n, "sign": _sign(lo, hi)})

    def frequent(lev: np.ndarray, key: str) -> list[str]:
        if choose:
            counts = pd.Series(lev[lev != "__null__"]).value_counts()
            groups[key] = sorted(counts[counts >= cfg["min_customers"]].index)
        return groups.get(key, [])

    hdd_x: list[np.ndarray] = []
    if temperature is not None and cfg["zone_column"] in p.customers:
        zones = _levels(p, cfg["zone_column"], source)
        hdd = degree_days(temperature, spec)
        hdd.columns = hdd.columns.astype(str)
        for base in cfg["degree_day_bases"]:
            # degree days at base b = the evaluation's 18 °C degree days of a shifted temperature
            shifted = temperature.assign(temperature_c=temperature["temperature_c"] + (HDD_BASE_C - base))
            d = degree_days(shifted, spec)
            d.columns = d.columns.astype(str)
            hdd_x.append(_zone_matrix(d, zones, mat.shape))
        slope = thermosensitivity(mat, zones, hdd)
        heat = _levels(p, cfg["group_by"], source)
        for g in frequent(heat, "heating"):
            add("thermosensitivity", f"thermosensitivity[{cfg['group_by']}={g}]", "kWh per degree-day",
                mean_ci(slope[heat == g], z))

    first = cfg["lockdowns"][0]
    if lockdown_share(periods, *first).sum() > 0:
        coef, normal = lockdown_terms(mat, hdd_x, periods, cfg["lockdowns"])
        add("lockdown", "lockdown_effect", "relative change", _ratio_ci(coef, normal, z))

    annual = series_features_from_matrix(mat, spec)["series_annual_kwh"].to_numpy()
    tariff = _levels(p, cfg["tariff_column"], source)
    ref_t = str(cfg["tariff_reference"])
    for g in frequent(tariff, "tariff"):
        if g != ref_t:
            add("tariff", f"annual_kwh[{cfg['tariff_column']}={g} − {ref_t}]", "kWh per year",
                _diff_ci(annual[tariff == g], annual[tariff == ref_t], z))
    kva = _levels(p, cfg["kva_column"], source)
    ref_k = str(cfg["kva_reference"])
    for g in frequent(kva, "kva"):
        if g != ref_k:
            add("kva", f"annual_kwh[{cfg['kva_column']}={g} − {ref_k}]", "kWh per year",
                _diff_ci(annual[kva == g], annual[kva == ref_k], z))
    kva_num = pd.to_numeric(pd.Series(kva).where(kva != "__null__"), errors="coerce").to_numpy(dtype=float)
    if choose:
        groups["kva_slope"] = ["yes"] if np.isfinite(kva_num).sum() >= cfg["min_customers"] else []
    if groups.get("kva_slope"):
        add("kva", f"annual_kwh_per_{cfg['kva_column']}", "kWh per year per kVA", _slope_ci(kva_num, annual, z))
    return pd.DataFrame(rows, columns=COLUMNS), groups


def compare_studies(real: Portfolio, sources: dict[str, Portfolio], cfg: dict[str, Any] | None = None,
                    temperature: pd.DataFrame | None = None) -> tuple[pd.DataFrame, dict[str, float]]:
    """The estimates of the real portfolio and every source side by side (long table with
    ``overlap`` and ``preserved`` per synthetic row) and the flat metrics
    ``<source>.conclusions_preserved``, ``<source>.<study>_preserved`` and ``n_estimates``."""
    c = config(cfg)
    ref, groups = estimates(real, c, temperature, REAL)
    if ref.empty:
        raise DataError("longitudinal studies: the real portfolio supports no estimate "
                        f"(fewer than {c['min_customers']} customers in every group?)")
    tables = [ref.assign(overlap=np.nan, preserved=np.nan)]
    metrics: dict[str, float] = {"n_estimates": float(len(ref))}
    for name, p in sources.items():
        est, _ = estimates(p, c, temperature, name, groups)
        est = ref[["estimate"]].merge(est, on="estimate", how="left")
        est["source"], est["study"], est["unit"] = name, ref["study"].to_numpy(), ref["unit"].to_numpy()
        overlap = (est["lo"].to_numpy() <= ref["hi"].to_numpy()) & (ref["lo"].to_numpy() <= est["hi"].to_numpy())
        preserved = overlap & (est["sign"].to_numpy() == ref["sign"].to_numpy())
        est["overlap"], est["preserved"] = overlap.astype(float), preserved.astype(float)
        tables.append(est[[*COLUMNS, "overlap", "preserved"]])
        metrics[f"{name}.conclusions_preserved"] = float(preserved.mean())
        for study in ref["study"].unique():
            metrics[f"{name}.{study}_preserved"] = float(preserved[(ref["study"] == study).to_numpy()].mean())
    return pd.concat(tables, ignore_index=True), metrics


def side_by_side(table: pd.DataFrame) -> str:
    """Markdown: one row per estimate, the real interval, then each source's with ✓ / ✗."""
    sources = list(dict.fromkeys(table["source"]))

    def cell(r: pd.Series) -> str:
        if not np.isfinite(r["value"]):
            return "— ✗" if r["source"] != REAL else "—"
        mark = "" if r["source"] == REAL else (" ✓" if r["preserved"] == 1 else " ✗")
        return f"{r['value']:.3g} [{r['lo']:.3g}, {r['hi']:.3g}]{mark}"

    lines = ["| estimate | unit | " + " | ".join(sources) + " |", "| --- | --- |" + " --- |" * len(sources)]
    for est, g in table.groupby("estimate", sort=False):
        by = {r["source"]: cell(r) for _, r in g.iterrows()}
        lines.append(f"| {est} | {g['unit'].iloc[0]} | " + " | ".join(by.get(s, "") for s in sources) + " |")
    return "\n".join(lines) + "\n"
