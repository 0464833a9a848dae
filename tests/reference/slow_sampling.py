"""The per-row sampling code that the vectorised hot path replaced (acacia before issue 10 item 3).

Kept only as the reference the fast path must reproduce exactly: ``slow_path()`` patches these
in, so a test can sample the same model both ways and compare the tables cell for cell, dtype
for dtype. Not used by the package.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
from scipy import stats

from acacia.data.portfolio import Portfolio
from acacia.errors import DataError
from acacia.transforms.encoders import from_tokens


def copula_sample_table(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
    z = rng.standard_normal((n, self.factor_.shape[0])) @ self.factor_.T
    out: dict[str, np.ndarray] = {}
    for j, (col, role, enc) in enumerate(self.layout_):
        if role == "category":
            out[col] = from_tokens(_category_inverse(enc, z[:, j]))
        elif role == "value":
            out[col] = _quantile_inverse(enc, z[:, j])
        else:
            is_null = _category_inverse(enc, z[:, j]).astype(float) >= 0.5
            out[col] = np.where(is_null, np.nan, out[col])
    return pd.DataFrame(out)[self.columns_]


def _quantile_inverse(enc, z: np.ndarray) -> np.ndarray:
    u = stats.norm.cdf(np.asarray(z, dtype=float))
    u = np.where(u <= 2 * 1e-6, 0.0, np.where(u >= 1 - 2 * 1e-6, 1.0, u))
    return np.interp(u, enc.probs_, enc.quantiles_)


def _category_inverse(enc, z: np.ndarray) -> np.ndarray:
    u = stats.norm.cdf(np.asarray(z, dtype=float))
    idx = np.clip(np.searchsorted(enc.edges_, u, side="right") - 1, 0, len(enc.categories_) - 1)
    return enc.categories_[idx]


def decode_column(values: np.ndarray, col) -> pd.Series:
    if col.kind in ("numerical", "integer", "date"):
        v = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
        if col.kind in ("integer", "date"):
            v = np.round(v)
        lo = -np.inf if col.min is None else col.min
        hi = np.inf if col.max is None else col.max
        v = np.where(np.isnan(v), np.nan, np.clip(v, lo, hi))
        if not col.nullable:
            v = np.where(np.isnan(v), np.nanmedian(v) if np.isfinite(v).any() else 0.0, v)
        if col.kind == "integer":
            return pd.Series(v).round().astype("Int64")
        if col.kind == "date":
            days = pd.array(v, dtype="Float64").astype("Int64")
            return pd.to_datetime(pd.Series(days).astype("float"), unit="D", origin="unix")
        return pd.Series(v)
    s = pd.Series(values, dtype=object)
    if col.kind == "boolean":
        s = s.map(lambda x: None if x is None or pd.isna(x) else bool(x == True or x == "True"))  # noqa: E712
        return s.astype("boolean")
    return s.astype(object).where(s.notna(), None).astype("str").where(s.notna(), None)


def consumption_from_matrix(ids: pd.Series, mat: np.ndarray, schema) -> pd.DataFrame:
    spec = schema.series
    if spec is None:
        return pd.DataFrame(columns=[schema.id_column, "period_start", "kwh"])
    r, c = np.nonzero(~np.isnan(mat))
    return pd.DataFrame(
        {schema.id_column: np.asarray(ids)[r], "period_start": spec.periods[c], spec.value: mat[r, c]}
    )


def validate_consumption(self, df: pd.DataFrame, customer_ids: pd.Series,
                         source: str = "consumption") -> None:
    spec = self.series
    if spec is None:
        if len(df):
            raise DataError(f"{source}: schema declares no series but consumption has rows")
        return
    need = [self.id_column, "period_start", spec.value]
    missing = [n for n in need if n not in df.columns]
    if missing:
        raise DataError(f"{source}: missing columns {missing}")
    if not pd.api.types.is_datetime64_any_dtype(df["period_start"]):
        raise DataError(f"{source}: column 'period_start' should hold dates")
    kwh = df[spec.value]
    if (kwh < 0).any():
        raise DataError(f"{source}: negative {spec.value} ({float(kwh.min())})")
    unknown = ~df[self.id_column].isin(customer_ids)
    if unknown.any():
        raise DataError(
            f"{source}: consumption for unknown customer '{df[self.id_column][unknown].iloc[0]}'"
        )
    grid = spec.periods
    off = ~df["period_start"].isin(grid)
    if off.any():
        raise DataError(
            f"{source}: irregular period {df['period_start'][off].iloc[0].date()} is not on the "
            f"{spec.frequency} grid starting {spec.start} ({spec.n_periods} periods)"
        )
    if df.duplicated([self.id_column, "period_start"]).any():
        raise DataError(f"{source}: duplicated (customer, period_start) rows")


@contextmanager
def slow_path(monkeypatch) -> Iterator[None]:
    """Within the block, the package samples, decodes and validates with the code above."""
    import acacia.transforms.table
    from acacia.data.schema import Schema
    from acacia.models.gaussian_copula import GaussianCopula

    with monkeypatch.context() as m:
        m.setattr(GaussianCopula, "_sample_table", copula_sample_table)
        m.setattr(acacia.transforms.table, "_decode_column", decode_column)
        m.setattr(Portfolio, "consumption_from_matrix", staticmethod(consumption_from_matrix))
        m.setattr(Schema, "validate_consumption", validate_consumption)
        yield
