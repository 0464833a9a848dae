"""Reversible numeric and date encoders: scalers, outlier clipping, dates, integers, bounds.

Every encoder takes and returns 1-D float arrays with NaN for nulls (nulls pass through:
missingness is carried by :class:`~acacia.transforms.encoders.MissingIndicator`), and has
``fit`` / ``transform`` / ``inverse_transform``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from acacia.errors import NotFittedError


def _values(x: np.ndarray | pd.Series) -> np.ndarray:
    return np.asarray(pd.to_numeric(pd.Series(x), errors="raise"), dtype=float)


def _check(enc: object, attr: str) -> None:
    if not hasattr(enc, attr):
        raise NotFittedError(f"{type(enc).__name__} used before fit()")


class MinMaxScaler:
    """To [0, 1] over the observed range; a constant column maps to 0 and back exactly."""

    def fit(self, x: np.ndarray | pd.Series) -> MinMaxScaler:
        v = _values(x)
        finite = v[~np.isnan(v)]
        self.min_ = float(finite.min()) if len(finite) else 0.0
        span = float(finite.max()) - self.min_ if len(finite) else 0.0
        self.scale_ = span if span > 0 else 1.0
        return self

    def transform(self, x: np.ndarray | pd.Series) -> np.ndarray:
        _check(self, "min_")
        return (_values(x) - self.min_) / self.scale_

    def inverse_transform(self, z: np.ndarray) -> np.ndarray:
        _check(self, "min_")
        return np.asarray(z, dtype=float) * self.scale_ + self.min_


class StandardScaler:
    """Zero mean, unit variance; a constant column keeps a unit scale so it round-trips."""

    def fit(self, x: np.ndarray | pd.Series) -> StandardScaler:
        v = _values(x)
        finite = v[~np.isnan(v)]
        self.mean_ = float(finite.mean()) if len(finite) else 0.0
        std = float(finite.std()) if len(finite) else 0.0
        self.std_ = std if std > 0 else 1.0
        return self

    def transform(self, x: np.ndarray | pd.Series) -> np.ndarray:
        _check(self, "mean_")
        return (_values(x) - self.mean_) / self.std_

    def inverse_transform(self, z: np.ndarray) -> np.ndarray:
        _check(self, "mean_")
        return np.asarray(z, dtype=float) * self.std_ + self.mean_


class OutlierClipper:
    """Clip at fitted quantiles (e.g. meter catch-up spikes) before a generator sees them.

    Only values inside [lower, upper] round-trip exactly: clipping is the point. Set
    ``quantiles=(0, 1)`` to disable it while keeping the same pipeline.
    """

    def __init__(self, quantiles: tuple[float, float] = (0.001, 0.999)) -> None:
        lo, hi = quantiles
        if not 0 <= lo <= hi <= 1:
            raise ValueError(f"OutlierClipper: quantiles must satisfy 0 ≤ lower ≤ upper ≤ 1, got {quantiles}")
        self.quantiles = quantiles

    def fit(self, x: np.ndarray | pd.Series) -> OutlierClipper:
        v = _values(x)
        finite = v[~np.isnan(v)]
        if len(finite):
            self.lower_, self.upper_ = (float(q) for q in np.quantile(finite, self.quantiles))
        else:
            self.lower_, self.upper_ = -np.inf, np.inf
        return self

    def transform(self, x: np.ndarray | pd.Series) -> np.ndarray:
        _check(self, "lower_")
        v = _values(x)
        return np.where(np.isnan(v), np.nan, np.clip(v, self.lower_, self.upper_))

    def inverse_transform(self, z: np.ndarray) -> np.ndarray:
        return np.asarray(z, dtype=float)


class IntegerBounds:
    """Decode side of integer and bounded columns: round (if integer) then clip to bounds.

    ``transform`` is the identity; ``inverse_transform`` turns a generator's real-valued output
    into a valid value. Fitted bounds are the observed range unless given.
    """

    def __init__(self, integer: bool = False, min: float | None = None, max: float | None = None) -> None:
        self.integer = integer
        self.min = min
        self.max = max

    def fit(self, x: np.ndarray | pd.Series) -> IntegerBounds:
        v = _values(x)
        finite = v[~np.isnan(v)]
        self.min_ = self.min if self.min is not None else (float(finite.min()) if len(finite) else -np.inf)
        self.max_ = self.max if self.max is not None else (float(finite.max()) if len(finite) else np.inf)
        return self

    def transform(self, x: np.ndarray | pd.Series) -> np.ndarray:
        _check(self, "min_")
        return _values(x)

    def inverse_transform(self, z: np.ndarray) -> np.ndarray:
        _check(self, "min_")
        v = np.asarray(z, dtype=float)
        if self.integer:
            v = np.round(v)
        return np.where(np.isnan(v), np.nan, np.clip(v, self.min_, self.max_))


_EPOCH = np.datetime64("1970-01-01", "D")
_YEAR_DAYS = 365.2425


class DateEncoder:
    """Dates ⇄ days since 1970 (plus optional day-of-year sine/cosine columns).

    Decoding rounds to whole days and reads only the first column, so the cyclical parts help a
    generator learn seasonality without being able to produce an invalid date.
    """

    def __init__(self, cyclical: bool = False) -> None:
        self.cyclical = cyclical

    def fit(self, x: pd.Series | np.ndarray) -> DateEncoder:
        self.fitted_ = True
        return self

    def transform(self, x: pd.Series | np.ndarray) -> np.ndarray:
        _check(self, "fitted_")
        s = pd.to_datetime(pd.Series(x), errors="raise")
        days = (s.to_numpy(dtype="datetime64[D]") - _EPOCH).astype(float)
        days[s.isna().to_numpy()] = np.nan
        if not self.cyclical:
            return days
        angle = 2 * np.pi * (days % _YEAR_DAYS) / _YEAR_DAYS
        return np.column_stack([days, np.sin(angle), np.cos(angle)])

    def inverse_transform(self, z: np.ndarray) -> pd.Series:
        _check(self, "fitted_")
        z = np.asarray(z, dtype=float)
        days = np.round(z[:, 0] if z.ndim == 2 else z)
        out = pd.Series(pd.NaT, index=range(len(days)), dtype="datetime64[s]")
        ok = ~np.isnan(days)
        out[ok] = _EPOCH + days[ok].astype("int64").astype("timedelta64[D]")
        return out
