"""Time-series fidelity of the consumption series (../shared/DESIGN.md §4, "Time series").

All metrics read customers × periods kWh matrices (NaN = no reading) and are errors (0 = same
as real) unless named ``*_score``:

- ``profile_mean_nmae``: Σ_t |mean_real(t) − mean_syn(t)| / Σ_t mean_real(t);
- ``profile_quantile_nmae``: the same for the 10 %, 50 % and 90 % quantiles per period, averaged;
- ``acf_distance``: mean over lags 1..k of |ACF_real(lag) − ACF_syn(lag)|, each ACF the mean of
  the customers' own autocorrelations of log(1 + kWh) (pairs of observed periods only);
- ``annual_total_ks``: KS statistic between annual kWh (mean observed kWh × periods per year);
- ``winter_summer_error``: per group (heating type), |log(median ratio_syn / median ratio_real)|,
  averaged with the real group shares as weights: a conditional fidelity, since a generator can
  match the portfolio's ratio while swapping who heats with what;
- ``thermo_error``: thermosensitivity, each customer's OLS slope of kWh on heating degree days
  of his climate zone (kWh per degree-day); per group |median_syn − median_real|, averaged with
  the real group shares and divided by the same average of |median_real| (a normalised MAE:
  near-zero slopes of gas-heated homes cannot blow it up); only with a temperature table;
- ``response_gradient_score``: per group, 1 − KS between the real and synthetic customers'
  thermosensitivities (the whole distribution, where ``thermo_error`` reads the medians: a
  generator that attenuates the relation narrows it), averaged with the real group shares; only
  with a temperature table;
- ``response_event_score``: the same for each customer's relative response to each declared
  event window (``events``: each customer's kWh regressed on an intercept, degree days at 18, 14
  and 10 °C, an annual harmonic and the event's share of each period, as the studies' ``event``
  block; the coefficient over the weather-normal kWh of the window), averaged over events;
- ``detection_score``: C2ST with LightGBM on series features only (monthly shape, level,
  variability, autocorrelations), 1 − (2·max(AUC, ½) − 1);
- ``next_step_score``: a ridge model predicting log(1 + kWh) at t from the previous lags,
  trained on synthetic vs on real train, both tested on real test windows: MAE_real / MAE_syn,
  capped at 1.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from acacia.data.schema import SeriesSpec
from acacia.evaluation.features import by_row_blocks

QUANTILES = (0.1, 0.5, 0.9)
HDD_BASE_C = 18.0  # French convention for heating degree days (COSTIC / Météo-France)
PERIODS_PER_YEAR = {"weekly": 52.18, "daily": 365.25}
SUMMER_MONTHS, WINTER_MONTHS = (6, 7, 8), (12, 1, 2)


def _nanmean(x: np.ndarray, axis: int) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(x, axis=axis)


def _nanquantile(x: np.ndarray, q: float, axis: int) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanquantile(x, q, axis=axis)


def profile_errors(real: np.ndarray, syn: np.ndarray) -> dict[str, float]:
    denom = np.nansum(np.abs(_nanmean(real, 0)))
    if not denom or len(syn) == 0:
        return {"profile_mean_nmae": np.nan, "profile_quantile_nmae": np.nan}
    mean_err = np.nansum(np.abs(_nanmean(real, 0) - _nanmean(syn, 0))) / denom
    q_err = []
    for q in QUANTILES:
        r, s = _nanquantile(real, q, 0), _nanquantile(syn, q, 0)
        d = np.nansum(np.abs(r))
        if d:
            q_err.append(np.nansum(np.abs(r - s)) / d)
    return {"profile_mean_nmae": float(mean_err), "profile_quantile_nmae": float(np.mean(q_err)) if q_err else np.nan}


def mean_acf(mat: np.ndarray, lags: int) -> np.ndarray:
    """Mean over customers of each customer's autocorrelation of log(1 + kWh) at lags 1..k."""
    # (lags, customers): each lag's row contiguous, as the vector the mean used to read.
    acfs = by_row_blocks(lambda block: _customer_acfs(block, lags), mat).T.copy()
    out = []
    for lag in range(1, lags + 1):
        if lag >= mat.shape[1]:
            out.append(np.nan)
            continue
        r = acfs[lag - 1]
        out.append(float(np.nanmean(np.where(np.isfinite(r), r, np.nan))) if np.isfinite(r).any() else np.nan)
    return np.array(out)


def _customer_acfs(mat: np.ndarray, lags: int) -> np.ndarray:
    """(customers, lags) autocorrelations of each customer's log(1 + kWh); NaN past the grid."""
    y = np.log1p(np.clip(mat, 0, None))
    y = y - _nanmean(y, 1)[:, None]
    var = _nanmean(y**2, 1)
    out = np.full((len(mat), lags), np.nan)
    for lag in range(1, min(lags, y.shape[1] - 1) + 1):
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, lag - 1] = _nanmean(y[:, lag:] * y[:, :-lag], 1) / var
    return out


def annual_totals(mat: np.ndarray, frequency: str) -> np.ndarray:
    obs = ~np.isnan(mat)
    # Customers read less than a third of the grid say little about a year's total.
    keep = obs.sum(1) >= max(1, mat.shape[1] // 3)
    return (_nanmean(mat[keep], 1) * PERIODS_PER_YEAR.get(frequency, 52.18)).astype(float)


def winter_summer_ratio(mat: np.ndarray, periods: pd.DatetimeIndex) -> np.ndarray:
    months = periods.month.to_numpy()
    w = _nanmean(mat[:, np.isin(months, WINTER_MONTHS)], 1)
    s = _nanmean(mat[:, np.isin(months, SUMMER_MONTHS)], 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(s > 0, w / s, np.nan)


def degree_days(temperature: pd.DataFrame, spec: SeriesSpec) -> pd.DataFrame:
    """Heating degree days per period (rows: the series grid) and climate zone (columns)."""
    t = temperature.copy()
    t["date"] = pd.to_datetime(t["date"])
    t["hdd"] = np.clip(HDD_BASE_C - t["temperature_c"].astype(float), 0, None)
    daily = t.pivot_table(index="date", columns="climate_zone", values="hdd")
    edges = spec.periods
    # Each day belongs to the last period start on or before it.
    idx = edges.searchsorted(daily.index, side="right") - 1
    ok = (idx >= 0) & (idx < len(edges))
    per = daily[ok].groupby(idx[ok]).sum()
    return per.reindex(range(len(edges))).set_axis(edges)


def thermosensitivity(mat: np.ndarray, zones: np.ndarray, hdd: pd.DataFrame) -> np.ndarray:
    """Per customer OLS slope of kWh on the degree days of his zone, over observed periods."""
    return by_row_blocks(lambda block, z: _slopes(block, z, hdd), mat, np.asarray(zones, dtype=object))


def _slopes(mat: np.ndarray, zones: np.ndarray, hdd: pd.DataFrame) -> np.ndarray:
    x = np.full(mat.shape, np.nan)
    for z in hdd.columns:
        rows = zones == z
        x[rows] = hdd[z].to_numpy(dtype=float)[None, :]
    ok = ~np.isnan(mat) & ~np.isnan(x)
    n = ok.sum(1)
    xm = np.where(ok, x, 0).sum(1) / np.maximum(n, 1)
    ym = np.where(ok, mat, 0).sum(1) / np.maximum(n, 1)
    dx = np.where(ok, x - xm[:, None], 0)
    dy = np.where(ok, mat - ym[:, None], 0)
    sxx = (dx**2).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((n >= 8) & (sxx > 0), (dx * dy).sum(1) / sxx, np.nan)


def _group_error(real_v: np.ndarray, syn_v: np.ndarray, real_g: np.ndarray, syn_g: np.ndarray,
                 log: bool, name: str) -> tuple[float, list[dict[str, Any]]]:
    rows, errs, weights, scale = [], [], [], []
    for g in pd.unique(real_g):
        r = real_v[(real_g == g) & np.isfinite(real_v)]
        s = syn_v[(syn_g == g) & np.isfinite(syn_v)]
        if len(r) < 5:
            continue
        rm = float(np.median(r))
        sm = float(np.median(s)) if len(s) else np.nan
        rows.append({"metric": name, "group": str(g), "real": rm, "synthetic": sm, "n_real": len(r), "n_synthetic": len(s)})
        if log:
            err = abs(np.log(sm / rm)) if rm > 0 and sm > 0 else np.nan
            # a group the generator dropped counts as a full miss, not as absent
            errs.append(err if np.isfinite(err) else 1.0)
        else:
            errs.append(abs(sm - rm) if np.isfinite(sm) else abs(rm))
            scale.append(abs(rm))
        weights.append(len(r))
    if not errs:
        return np.nan, rows
    if log:
        return float(np.average(errs, weights=weights)), rows
    # Slopes near zero (gas-heated homes) would blow up a per-group relative error: normalise
    # the weighted absolute error by the weighted magnitude instead, so groups count by size
    # and by how much thermosensitivity they carry.
    denom = float(np.average(scale, weights=weights))
    return (float(np.average(errs, weights=weights)) / denom if denom > 0 else np.nan), rows


def _ks_by_group(real_v: np.ndarray, syn_v: np.ndarray, real_g: np.ndarray, syn_g: np.ndarray) -> float:
    """1 − KS between real and synthetic per-customer values, per group, weighted by the real
    group sizes (a group the generator dropped scores 0)."""
    scores, weights = [], []
    for g in pd.unique(real_g):
        r = real_v[(real_g == g) & np.isfinite(real_v)]
        s = syn_v[(syn_g == g) & np.isfinite(syn_v)]
        if len(r) < 5:
            continue
        scores.append(1.0 - float(stats.ks_2samp(r, s).statistic) if len(s) >= 2 else 0.0)
        weights.append(len(r))
    return float(np.average(scores, weights=weights)) if scores else np.nan


#: degree-day bases of the event responses' weather terms: a single 18 °C base reads the spring
#: weather of electrically heated homes as a lockdown effect (usecases/studies.py, ``event``)
EVENT_DEGREE_DAY_BASES = (18.0, 14.0, 10.0)


def event_responses(mat: np.ndarray, spec: SeriesSpec, windows: list, weather: tuple | None) -> np.ndarray:
    """Each customer's relative response to an event (its windows: ``[[start, end], ...]``):
    the event coefficient over the weather-normal kWh of its periods; ``weather``: (temperature
    table, the customers' zones) for degree-day terms, or None."""
    from acacia.evaluation.events import event_terms, parse_windows, window_share

    periods = spec.periods
    share = np.clip(sum(window_share(periods, a, b) for a, b in parse_windows(windows, "evaluate.series.events")), 0, 1)
    hdd_x: list[np.ndarray] = []
    if weather is not None:
        temperature, zones = weather
        zones = np.array([str(z) for z in zones], dtype=object)
        for base in EVENT_DEGREE_DAY_BASES:
            shifted = temperature.assign(temperature_c=temperature["temperature_c"] + (HDD_BASE_C - base))
            hdd = degree_days(shifted, spec)
            x = np.full(mat.shape, np.nan)
            for z in hdd.columns:
                x[zones == str(z)] = hdd[z].to_numpy(dtype=float)[None, :]
            hdd_x.append(x)
    coef, normal = event_terms(mat, hdd_x, periods, share, [])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(normal > 0, coef / normal, np.nan)


def series_feature_frame(mat: np.ndarray, periods: pd.DatetimeIndex, lags: int = 4) -> pd.DataFrame:
    """Features a detector reads: monthly shares of consumption, level, variability, ACFs."""
    return by_row_blocks(lambda block: _feature_frame(block, periods, lags), mat)


def _feature_frame(mat: np.ndarray, periods: pd.DatetimeIndex, lags: int) -> pd.DataFrame:
    months = periods.month.to_numpy()
    monthly = np.column_stack([_nanmean(mat[:, months == m], 1) if (months == m).any()
                               else np.full(len(mat), np.nan) for m in range(1, 13)])
    total = np.nansum(monthly, 1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(total > 0, monthly / total, np.nan)
    y = np.log1p(np.clip(mat, 0, None))
    feats = {f"share_m{m:02d}": shares[:, m - 1] for m in range(1, 13)}
    feats["log_level"] = _nanmean(y, 1)
    yc = y - feats["log_level"][:, None]
    var = _nanmean(yc**2, 1)
    feats["log_std"] = np.sqrt(var)
    dif = np.diff(y, axis=1)
    feats["log_diff_std"] = np.sqrt(_nanmean(dif**2, 1)) if y.shape[1] > 1 else np.nan
    for lag in range(1, lags + 1):
        if lag < y.shape[1]:
            with np.errstate(invalid="ignore", divide="ignore"):
                feats[f"acf{lag}"] = _nanmean(yc[:, lag:] * yc[:, :-lag], 1) / var
    feats["missing_share"] = np.isnan(mat).mean(1)
    return pd.DataFrame(feats)


def _windows(mat: np.ndarray, lags: int, max_windows: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    n, t = mat.shape
    if t <= lags or n == 0:
        return np.empty((0, lags)), np.empty(0)
    rows = rng.integers(0, n, max_windows * 3)
    cols = rng.integers(lags, t, max_windows * 3)

    def log_kwh(c: np.ndarray) -> np.ndarray:
        # Only the cells drawn: log(1 + kWh) of the whole matrix would be one more matrix.
        return np.log1p(np.clip(mat[rows, c], 0, None))

    x = np.stack([log_kwh(cols - k) for k in range(1, lags + 1)], axis=1)
    target = log_kwh(cols)
    ok = np.isfinite(x).all(1) & np.isfinite(target)
    return x[ok][:max_windows], target[ok][:max_windows]


def next_step_score(train: np.ndarray, syn: np.ndarray, test: np.ndarray, lags: int, seed: int,
                    max_windows: int = 20000) -> tuple[float, float, float]:
    """(score, MAE trained on real, MAE trained on synthetic), both tested on real test windows."""
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(seed)
    xt, yt = _windows(test, lags, max_windows, rng)
    xr, yr = _windows(train, lags, max_windows, rng)
    xs, ys = _windows(syn, lags, max_windows, rng)
    if min(len(yt), len(yr), len(ys)) < 10:
        return np.nan, np.nan, np.nan
    mae_real = float(np.abs(Ridge(1.0).fit(xr, yr).predict(xt) - yt).mean())
    mae_syn = float(np.abs(Ridge(1.0).fit(xs, ys).predict(xt) - yt).mean())
    return (min(1.0, mae_real / mae_syn) if mae_syn > 0 else 1.0), mae_real, mae_syn


def group_bands(mat: np.ndarray, groups: np.ndarray, periods: pd.DatetimeIndex, source: str,
                max_groups: int = 6) -> pd.DataFrame:
    """Median and 10–90 % band of kWh per period, per group: the load-profile band plot's data."""
    out = []
    for g in pd.Series(groups).value_counts().index[:max_groups]:
        m = mat[groups == g]
        out.append(pd.DataFrame({"period_start": periods, "group": str(g), "source": source,
                                 "p10": _nanquantile(m, 0.1, 0), "p50": _nanquantile(m, 0.5, 0),
                                 "p90": _nanquantile(m, 0.9, 0)}))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(
        columns=["period_start", "group", "source", "p10", "p50", "p90"])


def series_metrics(
    train: np.ndarray,
    syn: np.ndarray,
    test: np.ndarray,
    spec: SeriesSpec,
    train_groups: np.ndarray | None = None,
    syn_groups: np.ndarray | None = None,
    train_zones: np.ndarray | None = None,
    syn_zones: np.ndarray | None = None,
    temperature: pd.DataFrame | None = None,
    seed: int = 0,
    max_rows: int | None = 5000,
    lags: int | None = None,
    lightgbm: dict[str, Any] | None = None,
    folds: int = 5,
    events: dict[str, Any] | None = None,
) -> tuple[dict[str, float], dict[str, pd.DataFrame]]:
    """Series metrics (keys without the ``series.`` prefix) and plot tables ``bands`` and
    ``conditional`` (per-group real vs synthetic winter/summer ratio and thermosensitivity)."""
    from acacia.evaluation.detection import detection_score

    periods = spec.periods
    lags = lags or (4 if spec.frequency == "weekly" else 7)
    m: dict[str, float] = {}
    m.update(profile_errors(train, syn))
    m["acf_distance"] = float(np.nanmean(np.abs(mean_acf(train, lags) - mean_acf(syn, lags))))
    at_r, at_s = annual_totals(train, spec.frequency), annual_totals(syn, spec.frequency)
    m["annual_total_ks"] = float(stats.ks_2samp(at_r, at_s).statistic) if len(at_r) and len(at_s) else np.nan

    tg = train_groups if train_groups is not None else np.full(len(train), "all", dtype=object)
    sg = syn_groups if syn_groups is not None else np.full(len(syn), "all", dtype=object)
    tg = np.array([str(g) if g is not None and g == g else "<null>" for g in tg], dtype=object)
    sg = np.array([str(g) if g is not None and g == g else "<null>" for g in sg], dtype=object)
    m["winter_summer_error"], rows = _group_error(
        winter_summer_ratio(train, periods), winter_summer_ratio(syn, periods), tg, sg, True, "winter_summer_ratio")
    if temperature is not None and train_zones is not None and syn_zones is not None:
        hdd = degree_days(temperature, spec)
        slope_r = thermosensitivity(train, np.asarray(train_zones, dtype=object), hdd)
        slope_s = thermosensitivity(syn, np.asarray(syn_zones, dtype=object), hdd)
        m["thermo_error"], more = _group_error(slope_r, slope_s, tg, sg, False, "kwh_per_degree_day")
        rows += more
        m["response_gradient_score"] = _ks_by_group(slope_r, slope_s, tg, sg)
    else:
        m["thermo_error"] = m["response_gradient_score"] = np.nan
    scores = []
    for name, windows in (events or {}).items():
        weather = (temperature, train_zones, syn_zones) if temperature is not None and train_zones is not None else None
        resp_r = event_responses(train, spec, windows, weather and (weather[0], weather[1]))
        resp_s = event_responses(syn, spec, windows, weather and (weather[0], weather[2]))
        scores.append(_ks_by_group(resp_r, resp_s, tg, sg))
        rows += _group_error(resp_r, resp_s, tg, sg, False, f"event_response:{name}")[1]
    m["response_event_score"] = float(np.nanmean(scores)) if scores and np.isfinite(scores).any() else np.nan

    fr, fs = series_feature_frame(train, periods), series_feature_frame(syn, periods)
    d = detection_score(fr, fs, {c: "numerical" for c in fr.columns}, model="lightgbm", folds=folds,
                        seed=seed, max_rows=max_rows, lightgbm=lightgbm or {})
    m["detection_score"] = d["score"]
    score, mae_r, mae_s = next_step_score(train, syn, test, lags, seed)
    m["next_step_score"], m["next_step_mae_real"], m["next_step_mae_synthetic"] = score, mae_r, mae_s

    bands = pd.concat([group_bands(train, tg, periods, "real"), group_bands(syn, sg, periods, "synthetic")],
                      ignore_index=True)
    conditional = pd.DataFrame(rows, columns=["metric", "group", "real", "synthetic", "n_real", "n_synthetic"])
    return m, {"bands": bands, "conditional": conditional}
