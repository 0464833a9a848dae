"""Column shapes, column-pair trends and missingness (../shared/DESIGN.md §4).

Null handling, chosen so that each metric measures one thing:

- shapes of numerical / integer / date columns compare the non-null values only (1 − KS, dates as
  days); how often a value is null is scored by :func:`missingness_similarity`. A column null on
  every row of one side and not the other scores 0; null on both sides scores 1.
- shapes of categorical / boolean columns treat null as a level of its own (1 − TVD), as a user of
  the table would see it.
- trends: numeric pairs use Pearson on the rows where both are non-null; every other pair is a
  contingency table where null is its own bin, so a generator that nulls the wrong rows (e.g. no
  surface for houses only) is caught there.

Binning for contingency tables: ``binning="uniform"`` (default) cuts each numeric column into 10
equal-width bins over the *real* range, values beyond it falling into the end bins: this is what
sdmetrics' ``ContingencySimilarity`` in its quality report does, so trend means stay comparable to
the TabSyn/TabDiff tables. ``binning="quantile"`` uses the real deciles instead, more sensitive on
skewed columns (kWh, surfaces) where equal-width bins leave most rows in the first bin.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from acacia.evaluation.features import (
    LABEL_KINDS,
    NUMERIC_KINDS,
    check_columns,
    labels,
    numeric_values,
)


# --------------------------------------------------------------------------- shapes
def ks_complement(real: np.ndarray, syn: np.ndarray) -> float:
    """1 − two-sample Kolmogorov–Smirnov statistic on the non-NaN values."""
    r = np.sort(np.asarray(real, dtype=float))
    s = np.sort(np.asarray(syn, dtype=float))
    r, s = r[~np.isnan(r)], s[~np.isnan(s)]
    if len(r) == 0 or len(s) == 0:
        return float(len(r) == len(s))
    # The empirical CDFs only jump at observed values: evaluating both at every observed value
    # (right-continuous) finds the supremum exactly, with ties handled.
    grid = np.concatenate([r, s])
    cdf_r = np.searchsorted(r, grid, side="right") / len(r)
    cdf_s = np.searchsorted(s, grid, side="right") / len(s)
    return float(1.0 - np.max(np.abs(cdf_r - cdf_s)))


def tv_complement(real: np.ndarray, syn: np.ndarray) -> float:
    """1 − total variation distance between the label frequencies (labels compared as given)."""
    real, syn = np.asarray(real, dtype=object), np.asarray(syn, dtype=object)
    if len(real) == 0 or len(syn) == 0:
        return float(len(real) == len(syn))
    codes, _ = pd.factorize(np.concatenate([real, syn]))
    k = codes.max() + 1
    fr = np.bincount(codes[: len(real)], minlength=k) / len(real)
    fs = np.bincount(codes[len(real) :], minlength=k) / len(syn)
    return float(1.0 - 0.5 * np.abs(fr - fs).sum())


def column_shapes(real: pd.DataFrame, syn: pd.DataFrame, kinds: dict[str, str]) -> dict[str, float]:
    """Per column: 1 − KS (numerical, integer, date) or 1 − TVD (categorical, boolean)."""
    cols = check_columns(real, kinds, "real")
    check_columns(syn, kinds, "synthetic")
    out = {}
    for c in cols:
        k = kinds[c]
        if k in LABEL_KINDS:
            out[c] = tv_complement(labels(real[c], k), labels(syn[c], k))
        else:
            out[c] = ks_complement(numeric_values(real[c], k), numeric_values(syn[c], k))
    return out


# --------------------------------------------------------------------------- trends
def _bin_codes(
    r: np.ndarray, s: np.ndarray, bins: int, binning: str
) -> tuple[np.ndarray, np.ndarray, int]:
    """Bin indices fitted on the real values; NaN gets the extra last bin."""
    fin = r[np.isfinite(r)]
    if len(fin) == 0:
        edges = np.empty(0)
    elif binning == "quantile":
        edges = np.unique(np.quantile(fin, np.linspace(0, 1, bins + 1))[1:-1])
    else:
        lo, hi = float(fin.min()), float(fin.max())
        edges = np.linspace(lo, hi, bins + 1)[1:-1] if hi > lo else np.empty(0)
    k = len(edges) + 1

    def code(v: np.ndarray) -> np.ndarray:
        return np.where(np.isnan(v), k, np.searchsorted(edges, v, side="right"))

    return code(r), code(s), k + 1


def _label_codes(r: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    codes, uniques = pd.factorize(np.concatenate([r, s]))
    return codes[: len(r)], codes[len(r) :], len(uniques)


def _pairwise_pearson(x: np.ndarray) -> np.ndarray:
    """Pearson correlation of every column pair on the rows where both are non-NaN.

    All pairs at once through masked matrix products (rows × columns is small next to the
    pairs × rows a loop would touch); NaN where a pair has < 3 common rows or no variance.
    """
    x = np.asarray(x, dtype=float)
    m = (~np.isnan(x)).astype(float)
    # Centring and scaling first keeps the sums of squares well conditioned (dates in days,
    # kWh in thousands).
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = np.nanmean(np.where(m > 0, x, np.nan), axis=0) if len(x) else np.zeros(x.shape[1])
        sd = np.nanstd(np.where(m > 0, x, np.nan), axis=0) if len(x) else np.ones(x.shape[1])
    mu = np.nan_to_num(mu)
    sd = np.where(np.isfinite(sd) & (sd > 0), sd, 1.0)
    x0 = np.where(m > 0, (x - mu) / sd, 0.0)
    n = m.T @ m
    sx = x0.T @ m  # [i, j]: sum of x_i over rows where both i and j are observed
    sxx = (x0**2).T @ m
    sxy = x0.T @ x0
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sx.T / n
        var_i = sxx - sx**2 / n
        var_j = var_i.T
        rho = cov / np.sqrt(var_i * var_j)
    bad = (n < 3) | ~(var_i > 1e-9 * n) | ~(var_j > 1e-9 * n)
    rho[bad] = np.nan
    return np.clip(rho, -1.0, 1.0)


def column_pair_trends(
    real: pd.DataFrame,
    syn: pd.DataFrame,
    kinds: dict[str, str],
    bins: int = 10,
    binning: str = "uniform",
) -> dict[str, float]:
    """Per pair ``"a|b"`` (schema order): correlation similarity or contingency similarity.

    Numeric–numeric (numerical, integer, date): 1 − |ρ_real − ρ_syn| / 2 with Pearson ρ on rows
    where both values are present. When ρ is undefined on either side (a constant column, fewer
    than 3 common rows) the pair falls back to the contingency similarity, which stays defined.
    Any other pair: 1 − TVD between the real and synthetic joint frequencies of binned values.
    """
    if binning not in ("uniform", "quantile"):
        raise ValueError(f"binning '{binning}', expected 'uniform' or 'quantile'")
    cols = check_columns(real, kinds, "real")
    check_columns(syn, kinds, "synthetic")
    nums = [c for c in cols if kinds[c] in NUMERIC_KINDS]
    values = {c: (numeric_values(real[c], kinds[c]), numeric_values(syn[c], kinds[c])) for c in nums}
    codes: dict[str, tuple[np.ndarray, np.ndarray, int]] = {}
    for c in cols:
        if c in values:
            codes[c] = _bin_codes(*values[c], bins=bins, binning=binning)
        else:
            codes[c] = _label_codes(labels(real[c], kinds[c]), labels(syn[c], kinds[c]))

    rho_r = rho_s = np.empty((0, 0))
    if nums:
        rho_r = _pairwise_pearson(np.column_stack([values[c][0] for c in nums]))
        rho_s = _pairwise_pearson(np.column_stack([values[c][1] for c in nums]))
    pos = {c: i for i, c in enumerate(nums)}

    n_r, n_s = max(len(real), 1), max(len(syn), 1)
    out: dict[str, float] = {}
    for a, b in itertools.combinations(cols, 2):
        if a in pos and b in pos:
            ra, sa = rho_r[pos[a], pos[b]], rho_s[pos[a], pos[b]]
            if np.isfinite(ra) and np.isfinite(sa):
                out[f"{a}|{b}"] = float(1.0 - abs(ra - sa) / 2.0)
                continue
        (ca_r, ca_s, ka), (cb_r, cb_s, kb) = codes[a], codes[b]
        jr = np.bincount(ca_r * kb + cb_r, minlength=ka * kb) / n_r
        js = np.bincount(ca_s * kb + cb_s, minlength=ka * kb) / n_s
        out[f"{a}|{b}"] = float(1.0 - 0.5 * np.abs(jr - js).sum())
    return out


# --------------------------------------------------------------------------- missingness
def missingness_by_column(
    real: pd.DataFrame, syn: pd.DataFrame, columns: list[str] | None = None
) -> dict[str, float]:
    """Per column 1 − |null rate real − null rate synthetic| (columns of both frames by default)."""
    cols = columns if columns is not None else [c for c in real.columns if c in syn.columns]
    out = {}
    for c in cols:
        rr = float(real[c].isna().mean()) if len(real) else 0.0
        rs = float(syn[c].isna().mean()) if len(syn) else 0.0
        out[c] = 1.0 - abs(rr - rs)
    return out


def missingness_similarity(
    real: pd.DataFrame, syn: pd.DataFrame, columns: list[str] | None = None
) -> float:
    """Mean over columns of 1 − |null rate real − null rate synthetic|; 1 when no column."""
    per = missingness_by_column(real, syn, columns)
    return float(np.mean(list(per.values()))) if per else 1.0


__all__ = [
    "column_pair_trends",
    "column_shapes",
    "ks_complement",
    "missingness_by_column",
    "missingness_similarity",
    "tv_complement",
]
