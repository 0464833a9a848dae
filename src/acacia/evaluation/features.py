"""The table every tabular metric reads, and the numeric embedding used by distances and detection.

The benchmark compares two-table portfolios, but fidelity, detection, privacy and utility metrics
from the literature are defined on one flat table. :func:`analysis_table` flattens a portfolio into
the customers' non-id columns plus a handful of per-customer series summaries, so a generator that
produces plausible customers with implausible consumption is still caught by every metric.

Column kinds follow the schema (``numerical | integer | categorical | boolean | date``); the helpers
:func:`numeric_values` and :func:`labels` give the two views every metric needs (numbers with NaN,
or string labels with the null as its own level), so real and synthetic frames with slightly
different dtypes (``int64`` vs nullable ``Int64``, ``bool`` vs ``object``) compare equal.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from acacia.data.portfolio import Portfolio
from acacia.data.schema import SeriesSpec
from acacia.errors import DataError, NotFittedError

NULL_LABEL = "__null__"
OTHER_LABEL = "__other__"
NUMERIC_KINDS = ("numerical", "integer", "date")
LABEL_KINDS = ("categorical", "boolean")

# Meteorological seasons of the northern hemisphere, where the supplier's portfolio lives.
WINTER_MONTHS = (12, 1, 2)
SUMMER_MONTHS = (6, 7, 8)
PERIODS_PER_YEAR = {"weekly": 365.25 / 7, "daily": 365.25}

SERIES_FEATURES = (
    "series_mean_kwh",
    "series_annual_kwh",
    "series_winter_summer",
    "series_cv",
    "series_missing_share",
    "series_acf1",
)


# --------------------------------------------------------------------------- column views
def numeric_values(s: pd.Series, kind: str) -> np.ndarray:
    """float64 values with NaN for nulls; dates become days since 1970-01-01."""
    if kind == "date":
        d = pd.to_datetime(s)
        if getattr(d.dt, "tz", None) is not None:
            d = d.dt.tz_localize(None)
        days = (d - pd.Timestamp(0)) / pd.Timedelta(days=1)
        return days.to_numpy(dtype=float, na_value=np.nan)
    if pd.api.types.is_bool_dtype(s):
        return s.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


_TRUE_FALSE = {"true": "True", "false": "False", "1": "True", "0": "False"}


def labels(s: pd.Series, kind: str | None = None) -> np.ndarray:
    """String labels (object array) with nulls as :data:`NULL_LABEL`.

    Numbers are written without a trailing ``.0`` when integral so that a categorical stored as
    ``int`` on one side and ``float`` (because of nulls) on the other yields the same labels; with
    ``kind="boolean"``, 1/0, 1.0/0.0 and "true"/"false" all become "True"/"False" (a generator
    decoding booleans through floats must not look like a new category). Only the distinct
    values are formatted, so this is cheap on long columns.
    """
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    names = []
    for u in uniques:
        if isinstance(u, bool | np.bool_):
            names.append(str(bool(u)))
        elif kind == "boolean" and str(u).strip().lower().removesuffix(".0") in _TRUE_FALSE:
            names.append(_TRUE_FALSE[str(u).strip().lower().removesuffix(".0")])
        elif isinstance(u, float | np.floating) and float(u).is_integer():
            names.append(str(int(u)))
        else:
            names.append(str(u))
    table = np.array(names + [NULL_LABEL], dtype=object)
    # factorize's sentinel -1 indexes the last entry: the null label.
    return table[codes]


# --------------------------------------------------------------------------- series summaries
# Rows summarised at a time: the statistics take about ten temporaries of the rows' size, which
# at a million weekly customers would be 12 GiB; 50,000 rows keep them near 0.6 GiB.
SERIES_CHUNK_ROWS = 50_000


def series_features_from_matrix(mat: np.ndarray, spec: SeriesSpec) -> pd.DataFrame:
    """Per-row summaries of a customers × periods kWh matrix (NaN = no reading).

    Every statistic uses only the observed periods of a customer, so a customer who joined late
    is summarised on the periods where he was a customer. Undefined values (no reading at all, no
    summer reading, constant series) are NaN and count as missing cells downstream. Rows are
    summarised :data:`SERIES_CHUNK_ROWS` at a time (each row's numbers do not depend on the others).
    """
    return by_row_blocks(lambda block: _series_features(block, spec), np.asarray(mat, dtype=float))


def by_row_blocks(fn: Callable[..., Any], mat: np.ndarray, *row_args: np.ndarray) -> Any:
    """``fn(block, *arg_blocks)`` over blocks of :data:`SERIES_CHUNK_ROWS` rows of ``mat`` (and
    the same rows of each ``row_args``), the results (arrays along their first axis, or frames)
    put back together: for statistics of each row alone, whose temporaries then stay the size of
    a block. Row-wise reductions give the same floats in a block as in the whole matrix."""
    if len(mat) <= SERIES_CHUNK_ROWS:
        return fn(mat, *row_args)
    parts = [fn(mat[i : i + SERIES_CHUNK_ROWS], *(a[i : i + SERIES_CHUNK_ROWS] for a in row_args))
             for i in range(0, len(mat), SERIES_CHUNK_ROWS)]
    return pd.concat(parts, ignore_index=True) if isinstance(parts[0], pd.DataFrame) else np.concatenate(parts)


def _series_features(mat: np.ndarray, spec: SeriesSpec) -> pd.DataFrame:
    n, t = mat.shape
    obs = ~np.isnan(mat)
    n_obs = obs.sum(axis=1)
    x0 = np.where(obs, mat, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = x0.sum(axis=1) / n_obs
        var = (np.where(obs, mat - mean[:, None], 0.0) ** 2).sum(axis=1) / n_obs
        std = np.sqrt(var)
        cv = np.where(mean > 0, std / mean, np.nan)

        months = spec.periods.month.to_numpy()
        winter = np.isin(months, WINTER_MONTHS)
        summer = np.isin(months, SUMMER_MONTHS)
        w_mean = x0[:, winter].sum(axis=1) / obs[:, winter].sum(axis=1)
        s_mean = x0[:, summer].sum(axis=1) / obs[:, summer].sum(axis=1)
        ws = np.where(s_mean > 0, w_mean / s_mean, np.nan)

        # Lag-1 autocorrelation on the pairs of consecutive periods both observed, centred on
        # the pairs' own means (a Pearson correlation of x_t with x_{t+1}).
        if t >= 2:
            a, b = mat[:, :-1], mat[:, 1:]
            pair = ~np.isnan(a) & ~np.isnan(b)
            m = pair.sum(axis=1)
            a0, b0 = np.where(pair, a, 0.0), np.where(pair, b, 0.0)
            ma, mb = a0.sum(axis=1) / m, b0.sum(axis=1) / m
            da = np.where(pair, a - ma[:, None], 0.0)
            db = np.where(pair, b - mb[:, None], 0.0)
            den = np.sqrt((da**2).sum(axis=1) * (db**2).sum(axis=1))
            acf1 = np.where((m >= 3) & (den > 0), (da * db).sum(axis=1) / den, np.nan)
        else:
            acf1 = np.full(n, np.nan)

    missing = 1.0 - n_obs / t if t else np.full(n, np.nan)
    return pd.DataFrame(
        {
            "series_mean_kwh": mean,
            "series_annual_kwh": mean * PERIODS_PER_YEAR[spec.frequency],
            "series_winter_summer": ws,
            "series_cv": cv,
            "series_missing_share": missing,
            "series_acf1": acf1,
        }
    )


def series_features(p: Portfolio, mat: np.ndarray | None = None) -> pd.DataFrame:
    """Series summaries indexed like ``p.customers``; an empty frame when there is no series.

    ``mat`` may be passed when the caller already holds ``p.series_matrix()``.
    """
    spec = p.schema.series
    if spec is None:
        return pd.DataFrame(index=p.customers.index)
    if mat is None:
        mat = p.series_matrix()
    feats = series_features_from_matrix(mat, spec)
    feats.index = p.customers.index
    return feats


# --------------------------------------------------------------------------- analysis table
def analysis_kinds(p: Portfolio) -> dict[str, str]:
    """Kinds of the analysis table's columns: the schema's non-id columns, then series features."""
    kinds = {c.name: c.kind for c in p.schema.feature_columns}
    if p.schema.series is not None:
        kinds.update({f: "numerical" for f in SERIES_FEATURES})
    return kinds


def analysis_table(
    p: Portfolio, mat: np.ndarray | None = None
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The flat table all tabular metrics use, and its column kinds.

    Customers' non-id columns followed by :func:`series_features`, one row per customer in the
    order of ``p.customers`` (fresh RangeIndex).
    """
    kinds = analysis_kinds(p)
    static = [c.name for c in p.schema.feature_columns]
    missing = [c for c in static if c not in p.customers.columns]
    if missing:
        raise DataError(f"customers table lacks schema columns {missing}")
    table = p.customers[static].reset_index(drop=True)
    feats = series_features(p, mat)
    if len(feats.columns):
        table = pd.concat([table, feats.reset_index(drop=True)], axis=1)
    return table, kinds


def check_columns(df: pd.DataFrame, kinds: dict[str, str], source: str) -> list[str]:
    """The columns of ``kinds`` (in order), raising DataError naming those ``df`` lacks."""
    missing = [c for c in kinds if c not in df.columns]
    if missing:
        raise DataError(f"{source}: missing columns {missing}")
    return list(kinds)


# --------------------------------------------------------------------------- embedding
class Embedding:
    """Rows → float32 vectors for distances (DCR) and linear detection.

    - numerical / integer / date: standardised with the real data's statistics (``robust``:
      median and IQR/1.349, falling back to the std, then 1, for near-constant columns;
      ``quantile``: normal scores through the real empirical CDF, which bounds every value but
      hides values beyond the real range), clipped to ±``clip``; a null becomes 0 plus a 0/1
      missing-indicator column. The indicator exists for every numeric column, even when the real
      data has no null there, so nulls that only a generator produces still move the row.
    - categorical / boolean: one-hot over the real levels with the null as its own level, plus an
      ``__other__`` column for levels the real data never shows (a generator inventing them is
      visible instead of encoding to an all-zero block).
    """

    def __init__(self, method: str = "robust", clip: float = 20.0, n_quantiles: int = 1000) -> None:
        if method not in ("robust", "quantile"):
            raise ValueError(f"Embedding method '{method}', expected 'robust' or 'quantile'")
        self.method = method
        self.clip = clip
        self.n_quantiles = n_quantiles

    def fit(self, df: pd.DataFrame, kinds: dict[str, str]) -> Embedding:
        self.columns_ = check_columns(df, kinds, "embedding")
        self.kinds_ = dict(kinds)
        self.numeric_: dict[str, tuple[float, float] | np.ndarray] = {}
        self.levels_: dict[str, pd.Index] = {}
        names: list[str] = []
        for c in self.columns_:
            kind = kinds[c]
            if kind in NUMERIC_KINDS:
                v = numeric_values(df[c], kind)
                v = v[~np.isnan(v)]
                if self.method == "robust":
                    self.numeric_[c] = _robust_stats(v)
                else:
                    probs = np.linspace(0, 1, min(self.n_quantiles, max(len(v), 2)))
                    self.numeric_[c] = np.quantile(v, probs) if len(v) else np.zeros(2)
                names += [c, f"{c}__missing"]
            elif kind in LABEL_KINDS:
                lev = pd.Index(pd.unique(labels(df[c], kind)))
                lev = lev[lev != OTHER_LABEL]
                self.levels_[c] = lev
                names += [f"{c}={x}" for x in lev] + [f"{c}={OTHER_LABEL}"]
            else:
                raise DataError(f"embedding: column '{c}' has kind '{kind}', not embeddable")
        self.feature_names_ = names
        return self

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        if not hasattr(self, "columns_"):
            raise NotFittedError("Embedding used before fit()")
        check_columns(df, self.kinds_, "embedding")
        blocks = []
        for c in self.columns_:
            kind = self.kinds_[c]
            if kind in NUMERIC_KINDS:
                v = numeric_values(df[c], kind)
                nan = np.isnan(v)
                st = self.numeric_[c]
                if self.method == "robust":
                    z = (v - st[0]) / st[1]
                else:
                    z = _normal_scores(v, st)
                z = np.clip(np.where(nan, 0.0, z), -self.clip, self.clip)
                blocks.append(np.column_stack([z, nan.astype(float)]))
            else:
                lev = self.levels_[c]
                code = lev.get_indexer(labels(df[c], kind))
                code = np.where(code < 0, len(lev), code)  # unseen → __other__
                onehot = np.zeros((len(df), len(lev) + 1))
                onehot[np.arange(len(df)), code] = 1.0
                blocks.append(onehot)
        if not blocks:
            return np.zeros((len(df), 0), dtype=np.float32)
        return np.hstack(blocks).astype(np.float32)

    def fit_transform(self, df: pd.DataFrame, kinds: dict[str, str]) -> np.ndarray:
        return self.fit(df, kinds).transform(df)


def _robust_stats(v: np.ndarray) -> tuple[float, float]:
    if len(v) == 0:
        return 0.0, 1.0
    med = float(np.median(v))
    q75, q25 = np.percentile(v, [75, 25])
    # IQR/1.349 equals the std for a normal variable; fall back when half the values are equal
    # (e.g. a zero-inflated PV column), then to 1 for constant columns.
    scale = float(q75 - q25) / 1.349
    if not scale > 1e-12:
        scale = float(np.std(v))
    if not scale > 1e-12:
        scale = 1.0
    return med, scale


def _normal_scores(v: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    from scipy import stats

    probs = np.linspace(0, 1, len(quantiles))
    # Average of the left and right interpolation: ties (a constant column) map to the middle.
    lo = np.interp(v, quantiles, probs)
    hi = -np.interp(-v, -quantiles[::-1], -probs[::-1])
    u = np.clip((lo + hi) / 2, 1e-6, 1 - 1e-6)
    return stats.norm.ppf(u)


def ordinal_frame(frames: list[pd.DataFrame], kinds: dict[str, str]) -> list[pd.DataFrame]:
    """Float frames for tree models: numbers (dates as days) with NaN kept, labels as codes.

    Label codes are shared across ``frames`` (factorised on their union) and nulls stay NaN,
    which LightGBM routes on its own at each split.
    """
    out = [pd.DataFrame(index=f.index) for f in frames]
    for c, kind in kinds.items():
        if kind in NUMERIC_KINDS:
            for o, f in zip(out, frames, strict=True):
                o[c] = numeric_values(f[c], kind)
        else:
            labs = [labels(f[c], kind) for f in frames]
            codes, _ = pd.factorize(np.concatenate(labs))
            codes = codes.astype(float)
            codes[np.concatenate(labs) == NULL_LABEL] = np.nan
            start = 0
            for o, lab in zip(out, labs, strict=True):
                o[c] = codes[start : start + len(lab)]
                start += len(lab)
    return out
