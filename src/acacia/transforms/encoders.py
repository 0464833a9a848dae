"""Reversible column encoders shared by the synthesizers.

Each encoder maps one column to one or more float columns and back. They follow scikit-learn's
habit: parameters in ``__init__``, learned state in attributes ending with ``_``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special, stats

from acacia.errors import NotFittedError

NULL_TOKEN = "__null__"
# Keeps normal scores finite: Φ⁻¹(0) and Φ⁻¹(1) are infinite.
_EPS = 1e-6


def _check_fitted(enc: object, attr: str) -> None:
    if not hasattr(enc, attr):
        raise NotFittedError(f"{type(enc).__name__} used before fit()")


class QuantileNormalizer:
    """Numeric values ⇄ standard-normal scores through the empirical CDF.

    The inverse interpolates between observed quantiles, so generated values stay inside the
    observed range and reproduce skewed, multi-modal marginals (kWh, surfaces).
    Nulls pass through as NaN: missingness is encoded separately by :class:`MissingIndicator`.
    """

    def __init__(self, n_quantiles: int = 1000) -> None:
        self.n_quantiles = n_quantiles

    def fit(self, x: np.ndarray) -> QuantileNormalizer:
        v = np.asarray(x, dtype=float)
        v = v[~np.isnan(v)]
        if len(v) == 0:
            v = np.zeros(1)
        probs = np.linspace(0.0, 1.0, min(self.n_quantiles, max(len(v), 2)))
        self.quantiles_ = np.quantile(v, probs)
        self.probs_ = probs
        return self

    def transform(self, x: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """Normal scores; a value repeated in the data (an integer, a share stuck at 0, a date
        shared by many rows) owns the band [F(x−), F(x)] of the CDF. Without ``rng`` it maps to
        the band's middle (mid-rank: a constant column sits at z = 0, not at an edge); with
        ``rng`` to a uniform draw inside the band (dequantisation), so that the scores are
        exactly N(0, 1) with no point masses. Both invert to the same value."""
        _check_fitted(self, "quantiles_")
        v = np.asarray(x, dtype=float)
        lo = np.interp(v, self.quantiles_, self.probs_, left=0.0, right=1.0)
        hi = -np.interp(-v, -self.quantiles_[::-1], -self.probs_[::-1], left=-1.0, right=0.0)
        mid = (lo + hi) / 2 if rng is None else lo + rng.uniform(size=v.shape) * (hi - lo)
        u = np.clip(mid, _EPS, 1 - _EPS)
        return np.where(np.isnan(v), np.nan, stats.norm.ppf(u))

    def inverse_transform(self, z: np.ndarray) -> np.ndarray:
        # special.ndtr is what stats.norm.cdf evaluates, without its per-call argument handling.
        return self.from_uniform(special.ndtr(np.asarray(z, dtype=float)))

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        """The inverse from Φ(z) (a caller holding many columns takes Φ once for all)."""
        _check_fitted(self, "quantiles_")
        # Undo transform()'s clipping at the edges so the minimum and maximum come back exactly.
        u = np.where(u <= 2 * _EPS, 0.0, np.where(u >= 1 - 2 * _EPS, 1.0, u))
        return np.interp(u, self.probs_, self.quantiles_)


class FrequencyIntervalEncoder:
    """Categories ⇄ normal scores: each category owns an interval of [0, 1] sized by its frequency.

    This is how a Gaussian copula handles discrete columns (as in SDV's GaussianCopula): a value
    is a uniform draw inside its category's interval, so the copula sees a continuous variable
    whose inverse is exact. Nulls are a category of their own.
    """

    def fit(self, x: pd.Series, order_by: np.ndarray | None = None) -> FrequencyIntervalEncoder:
        """``order_by``: a score per row; categories are laid out by their mean score, so that
        the encoding is monotone along that direction (frequency order otherwise)."""
        s = _as_tokens(x)
        counts = s.value_counts(sort=True)
        if order_by is not None:
            means = pd.Series(np.asarray(order_by, dtype=float), index=s.index).groupby(s.values).mean()
            # Positional: boolean labels given to .loc would be read as a mask.
            counts = counts.iloc[np.argsort(means.reindex(counts.index).to_numpy(), kind="stable")]
        self.categories_ = counts.index.to_numpy(dtype=object)
        freq = counts.to_numpy(dtype=float) / counts.sum()
        self.edges_ = np.concatenate([[0.0], np.cumsum(freq)])
        self.edges_[-1] = 1.0
        return self

    def transform(self, x: pd.Series, rng: np.random.Generator) -> np.ndarray:
        _check_fitted(self, "categories_")
        s = _as_tokens(x)
        idx = pd.Index(self.categories_).get_indexer(s.to_numpy(dtype=object))
        if (idx < 0).any():
            unknown = s.to_numpy(dtype=object)[idx < 0][0]
            raise ValueError(f"category '{unknown}' was not seen in fit()")
        lo, hi = self.edges_[idx], self.edges_[idx + 1]
        u = lo + (hi - lo) * rng.uniform(0.2, 0.8, size=len(idx))
        return stats.norm.ppf(np.clip(u, _EPS, 1 - _EPS))

    def inverse_transform(self, z: np.ndarray) -> np.ndarray:
        _check_fitted(self, "categories_")
        return self.categories_[self.codes_from_uniform(special.ndtr(np.asarray(z, dtype=float)))]

    def codes_from_uniform(self, u: np.ndarray) -> np.ndarray:
        """Index in ``categories_`` of the interval holding each Φ(z)."""
        _check_fitted(self, "categories_")
        return np.clip(np.searchsorted(self.edges_, u, side="right") - 1, 0, len(self.categories_) - 1)


class MissingIndicator:
    """A 0/1 column telling where values are null, so missingness is generated, not imputed."""

    def fit(self, x: np.ndarray | pd.Series) -> MissingIndicator:
        self.null_rate_ = float(pd.isna(pd.Series(x)).mean()) if len(x) else 0.0
        return self

    def transform(self, x: np.ndarray | pd.Series) -> np.ndarray:
        _check_fitted(self, "null_rate_")
        return pd.isna(pd.Series(x)).to_numpy(dtype=float)

    def inverse_transform(self, flags: np.ndarray) -> np.ndarray:
        return np.asarray(flags) >= 0.5


def _as_tokens(x: pd.Series) -> pd.Series:
    """Categorical values as objects, with null mapped to a token so it counts as a level."""
    s = pd.Series(x, copy=False).astype(object)
    return s.where(s.notna(), NULL_TOKEN)


def from_tokens(values: np.ndarray) -> np.ndarray:
    out = np.asarray(values, dtype=object).copy()
    out[out == NULL_TOKEN] = None
    return out


class CategoricalCodes:
    """Categories ⇄ integer codes 0..K−1 (null is a level of its own, the last code)."""

    def fit(self, x: pd.Series) -> CategoricalCodes:
        s = _as_tokens(x)
        levels = sorted(v for v in s.unique() if v != NULL_TOKEN)
        if (s == NULL_TOKEN).any():
            levels.append(NULL_TOKEN)
        self.categories_ = np.array(levels, dtype=object)
        return self

    def transform(self, x: pd.Series) -> np.ndarray:
        _check_fitted(self, "categories_")
        s = _as_tokens(x).to_numpy(dtype=object)
        idx = pd.Index(self.categories_).get_indexer(s)
        if (idx < 0).any():
            raise ValueError(f"category '{s[idx < 0][0]}' was not seen in fit()")
        return idx

    def inverse_transform(self, codes: np.ndarray) -> np.ndarray:
        _check_fitted(self, "categories_")
        idx = np.clip(np.round(np.asarray(codes, dtype=float)).astype(int), 0, len(self.categories_) - 1)
        return from_tokens(self.categories_[idx])


class OneHotEncoder:
    """Categories ⇄ one-hot rows; decoding takes the arg-max, so scores or logits decode too."""

    def fit(self, x: pd.Series) -> OneHotEncoder:
        self.codes_ = CategoricalCodes().fit(x)
        return self

    @property
    def categories_(self) -> np.ndarray:
        return self.codes_.categories_

    def transform(self, x: pd.Series) -> np.ndarray:
        _check_fitted(self, "codes_")
        idx = self.codes_.transform(x)
        out = np.zeros((len(idx), len(self.categories_)))
        out[np.arange(len(idx)), idx] = 1.0
        return out

    def inverse_transform(self, onehot: np.ndarray) -> np.ndarray:
        _check_fitted(self, "codes_")
        return self.codes_.inverse_transform(np.argmax(np.asarray(onehot), axis=1))
