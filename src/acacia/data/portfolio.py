"""A portfolio: the customers table and the long consumption table, with their schema.

This is the object every synthesizer consumes (``fit``) and produces (``sample``), so real and
synthetic data always share one layout (../shared/DESIGN.md §2).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from acacia.data.ids import take_ids
from acacia.data.schema import Schema
from acacia.errors import DataError

CUSTOMERS_FILE = "customers.parquet"
CONSUMPTION_FILE = "consumption.parquet"
SCHEMA_FILE = "schema.json"


@dataclass
class Portfolio:
    customers: pd.DataFrame
    consumption: pd.DataFrame
    schema: Schema

    def __len__(self) -> int:
        return len(self.customers)

    @property
    def ids(self) -> pd.Series:
        return self.customers[self.schema.id_column]

    def validate(self, source: str = "portfolio") -> Portfolio:
        self.schema.validate_customers(self.customers, source=f"{source}/customers")
        self.schema.validate_consumption(self.consumption, self.ids, source=f"{source}/consumption")
        return self

    def subset(self, ids: pd.Series | np.ndarray) -> Portfolio:
        """The customers with these ids (in table order) and their consumption rows."""
        idc = self.schema.id_column
        keep = self.customers[idc].isin(ids)
        return Portfolio(
            customers=self.customers[keep].reset_index(drop=True),
            consumption=self.consumption[self.consumption[idc].isin(ids)].reset_index(drop=True),
            schema=self.schema,
        )

    def series_matrix(self) -> np.ndarray:
        """Customers × periods kWh, NaN where no reading (before contract start, gaps)."""
        spec = self.schema.series
        idc = self.schema.id_column
        if spec is None:
            return np.empty((len(self), 0))
        row = pd.Index(self.customers[idc]).get_indexer(self.consumption[idc])
        col = spec.periods.get_indexer(self.consumption["period_start"])
        if (row < 0).any() or (col < 0).any():
            raise DataError("consumption rows do not match customers or the period grid")
        mat = np.full((len(self), spec.n_periods), np.nan)
        mat[row, col] = self.consumption[spec.value].to_numpy(dtype=float)
        return mat

    @staticmethod
    def consumption_from_matrix(ids: pd.Series, mat: np.ndarray, schema: Schema) -> pd.DataFrame:
        """Inverse of :meth:`series_matrix`: long rows for the non-missing cells."""
        spec = schema.series
        if spec is None:
            return pd.DataFrame(columns=[schema.id_column, "period_start", "kwh"])
        read = ~np.isnan(mat)
        r, c = np.nonzero(read)
        # Row-major like np.nonzero: mat[read] is mat[r, c] without the fancy indexing. Every
        # column is a fresh array, so the frame need not copy them (millions of rows).
        return pd.DataFrame(
            {
                schema.id_column: take_ids(pd.Series(ids), r).array,
                "period_start": spec.periods[c],
                spec.value: mat[read],
            },
            copy=False,
        )

    # ------------------------------------------------------------------ I/O
    def save(self, folder: str | Path) -> None:
        """Write the three files; each lands atomically (temp file, then rename)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        write_parquet(self.customers, folder / CUSTOMERS_FILE)
        write_parquet(self.consumption, folder / CONSUMPTION_FILE)
        self.schema.save(folder / SCHEMA_FILE)

    @classmethod
    def load(cls, folder: str | Path, schema: Schema | None = None) -> Portfolio:
        folder = Path(folder)
        for name in (CUSTOMERS_FILE, CONSUMPTION_FILE):
            if not (folder / name).exists():
                raise DataError(f"missing data file {folder / name}; run the stage that writes it")
        if schema is None:
            schema = Schema.load(folder / SCHEMA_FILE)
        return cls(
            customers=pd.read_parquet(folder / CUSTOMERS_FILE),
            consumption=pd.read_parquet(folder / CONSUMPTION_FILE),
            schema=schema,
        )


def write_parquet(df: pd.DataFrame, path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        df.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
