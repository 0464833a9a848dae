"""Portfolio ⇄ one wide table that any tabular generator can learn.

Static columns keep their schema kind; dates become days since 1970 (a number a generator can
model); the consumption series becomes columns through a series representation. Decoding
enforces the schema, so every generator's output is valid by construction: integers integral,
bounds respected, dates real dates, categories from the known set, kWh ≥ 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from acacia.data.ids import make_ids
from acacia.data.portfolio import Portfolio
from acacia.data.schema import Schema
from acacia.errors import NotFittedError
from acacia.transforms.series import make_series_representation

_EPOCH = np.datetime64("1970-01-01", "D")


class TableCodec:
    def __init__(self, series_representation: str | dict = "flat") -> None:
        self.series_representation = series_representation

    def fit(self, portfolio: Portfolio) -> TableCodec:
        self.schema_: Schema = portfolio.schema
        self.static_: list[str] = [c.name for c in portfolio.schema.feature_columns]
        # A table without a series (e.g. a public benchmark table) has nothing to compress or to
        # generate in a second stage: the flat representation of zero periods is zero columns.
        no_series = portfolio.schema.series is None
        self.series_ = make_series_representation("flat" if no_series else self.series_representation)
        static = self._static_table(portfolio)
        periods = portfolio.schema.series.periods if portfolio.schema.series is not None else None
        self.series_.fit(portfolio.series_matrix(), static, {c: self.schema_[c].kind for c in self.static_}, periods)
        return self

    def _check(self) -> None:
        if not hasattr(self, "schema_"):
            raise NotFittedError("TableCodec used before fit()")

    @property
    def kinds(self) -> dict[str, str]:
        """Kind of each wide-table column: numerical | integer | categorical | boolean | date."""
        self._check()
        out = {c: self.schema_[c].kind for c in self.static_}
        out.update({c: "numerical" for c in self.series_.columns})
        return out

    def to_table(self, portfolio: Portfolio) -> pd.DataFrame:
        self._check()
        static = self._static_table(portfolio)
        series = self.series_.to_columns(portfolio.series_matrix(), static)
        return pd.concat([static, series.set_axis(static.index)], axis=1)

    def _static_table(self, portfolio: Portfolio) -> pd.DataFrame:
        cols: dict[str, object] = {}
        for name in self.static_:
            kind = self.schema_[name].kind
            s = portfolio.customers[name]
            if kind == "date":
                days = (s.to_numpy(dtype="datetime64[D]") - _EPOCH).astype(float)
                cols[name] = np.where(s.isna().to_numpy(), np.nan, days)
            elif kind in ("numerical", "integer"):
                cols[name] = pd.to_numeric(s).astype(float).to_numpy()
            else:
                cols[name] = s.astype(object).where(s.notna(), None).to_numpy()
        return pd.DataFrame(cols, index=range(len(portfolio)))

    def to_portfolio(self, table: pd.DataFrame, id_prefix: str = "S",
                     rng: np.random.Generator | None = None, id_start: int = 0) -> Portfolio:
        """Decode a generated wide table into a schema-valid portfolio with fresh ids
        ``{id_prefix}{id_start + 1:07d}``, ...

        ``rng`` drives the series representations that draw noise when decoding (compressed,
        two-stage), so a seeded ``sample`` stays reproducible."""
        self._check()
        n = len(table)
        ids = make_ids(id_prefix, id_start, n)
        customers: dict[str, object] = {self.schema_.id_column: ids}
        for c in self.schema_.feature_columns:
            customers[c.name] = _decode_column(table[c.name].to_numpy(), c)
        cust = pd.DataFrame(customers)[self.schema_.names]
        mat = self.series_.from_columns(table, rng if rng is not None else np.random.default_rng(0))
        cons = Portfolio.consumption_from_matrix(ids, mat, self.schema_)
        return Portfolio(customers=cust, consumption=cons, schema=self.schema_)


def _decode_column(values: np.ndarray, col) -> pd.Series:
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
        v = s.to_numpy()
        null = pd.isna(v)
        truth = np.zeros(len(v), dtype=bool)
        # Compared only where not null: pd.NA == True is NA, which has no truth value.
        w = v[~null]
        truth[~null] = (w == True) | (w == "True")  # noqa: E712
        return pd.Series(pd.arrays.BooleanArray(truth, null))
    # A column takes few distinct labels: convert those to strings, then take (per-row
    # conversion was a large part of sampling time). Only plain strings are sure to compare
    # as they print (1 == 1.0 == True would merge labels), so anything else converts per row.
    codes, labels = pd.factorize(s)
    if all(isinstance(x, str) for x in labels):
        strings = pd.Series(labels.to_numpy(dtype=object), dtype=object).astype("str").array
        return pd.Series(strings.take(codes, allow_fill=True))
    return s.astype(object).where(s.notna(), None).astype("str").where(s.notna(), None)
