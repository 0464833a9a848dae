"""Column shapes, column-pair trends and missingness (../shared/DESIGN.md §4).

Null handling: for numeric and date columns, shapes compare the non-null values (KS) and
missingness is scored separately; for categorical and boolean columns null is a level of its own,
so a generator that drops or invents nulls loses shape score there. Numeric values are binned into
10 equal-width bins over the real range for contingency tables (as sdmetrics does), nulls in a bin
of their own.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy import stats

from acacia.evaluation.features import as_labels, as_numbers

CATEGORICAL = ("categorical", "boolean")


def ks_complement(real: np.ndarray, syn: np.ndarray) -> float:
    r, s = real[~np.isnan(real)], syn[~np.isnan(syn)]
    if len(r) == 0 or len(s) == 0:
        return float(len(r) == len(s))
    # The exact p-value is not needed (only the statistic) and fails on large ties: ask for asymp.
    return float(1 - stats.ks_2samp(r, s, method="asymp").statistic)


def tv_complement(real: np.ndarray, syn: np.ndarray) -> float:
    levels = np.union1d(real, syn)
    fr = (real[:, None] == levels).mean(axis=0)
    fs = (syn[:, None] == levels).mean(axis=0)
    return float(1 - 0.5 * np.abs(fr - fs).sum())


def column_shapes(real: pd.DataFrame, syn: pd.DataFrame, kinds: dict[str, str]) -> dict[str, float]:
    out = {}
    for c, k in kinds.items():
        if k in CATEGORICAL:
            out[c] = tv_complement(as_labels(real[c]), as_labels(syn[c]))
        else:
            out[c] = ks_complement(as_numbers(real[c], k), as_numbers(syn[c], k))
    return out


def _codes(real: pd.DataFrame, syn: pd.DataFrame, c: str, k: str, bins: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Integer codes for the joint tables: bins for numbers (real range), levels for categories;
    null gets the last code."""
    if k in CATEGORICAL:
        r, s = as_labels(real[c]), as_labels(syn[c])
        levels = np.union1d(r, s)
        return np.searchsorted(levels, r), np.searchsorted(levels, s), len(levels)
    r, s = as_numbers(real[c], k), as_numbers(syn[c], k)
    fin = r[np.isfinite(r)]
    lo, hi = (fin.min(), fin.max()) if len(fin) else (0.0, 1.0)
    edges = np.linspace(lo, hi if hi > lo else lo + 1, bins + 1)[1:-1]

    def code(v: np.ndarray) -> np.ndarray:
        out = np.searchsorted(edges, v, side="right")
        return np.where(np.isnan(v), bins, out)

    return code(r), code(s), bins + 1


def column_pair_trends(real: pd.DataFrame, syn: pd.DataFrame, kinds: dict[str, str],
                       bins: int = 10) -> dict[str, float]:
    cols = list(kinds)
    nums = {c: (as_numbers(real[c], kinds[c]), as_numbers(syn[c], kinds[c]))
            for c in cols if kinds[c] not in CATEGORICAL}
    codes = {c: _codes(real, syn, c, kinds[c], bins) for c in cols}
    out = {}
    for a, b in itertools.combinations(cols, 2):
        if a in nums and b in nums:
            out[f"{a}|{b}"] = 1 - abs(_pearson(nums[a][0], nums[b][0]) - _pearson(nums[a][1], nums[b][1])) / 2
        else:
            (ra, sa, ka), (rb, sb, kb) = codes[a], codes[b]
            jr = np.bincount(ra * kb + rb, minlength=ka * kb) / len(ra)
            js = np.bincount(sa * kb + sb, minlength=ka * kb) / max(len(sa), 1)
            out[f"{a}|{b}"] = float(1 - 0.5 * np.abs(jr - js).sum())
    return out


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3 or np.std(x[ok]) == 0 or np.std(y[ok]) == 0:
        return 0.0
    return float(np.corrcoef(x[ok], y[ok])[0, 1])


def missingness_similarity(real: pd.DataFrame, syn: pd.DataFrame) -> float:
    cols = [c for c in real.columns if c in syn.columns]
    if not cols:
        return 1.0
    return float(1 - np.mean([abs(real[c].isna().mean() - syn[c].isna().mean()) for c in cols]))
