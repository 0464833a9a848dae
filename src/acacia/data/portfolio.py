"""A portfolio: the customers table and the long consumption table, with their schema.

This is the object every synthesizer consumes (``fit``) and produces (``sample``), so real and
synthetic data always share one layout (../shared/DESIGN.md §2).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from acacia.data.ids import make_ids, take_ids
from acacia.data.schema import Schema
from acacia.errors import DataError

CUSTOMERS_FILE = "customers.parquet"
CONSUMPTION_FILE = "consumption.parquet"
SCHEMA_FILE = "schema.json"
#: a portfolio made of rows of a real split, saved as their positions (:func:`save_reference`)
REFERENCE_FILE = "reference.json"


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

    @classmethod
    def from_frames(cls, customers: pd.DataFrame, consumption: pd.DataFrame | None = None,
                    schema: Schema | None = None) -> Portfolio:
        """A portfolio from two DataFrames: ``customers`` (one row per customer) and the long
        ``consumption`` table (``customer_id, period_start, kwh``; None: no series). Without a
        ``schema`` one is inferred (kinds, nullability, bounds, the series grid) as
        ``acacia schema infer`` drafts it. Values are coerced to the schema's types and checked
        against it (DataError naming the column and row)."""
        from acacia.data.infer import infer_schema_from_frames
        from acacia.data.loaders import portfolio_from_tables

        if schema is None:
            schema = infer_schema_from_frames(customers, consumption)
        return portfolio_from_tables(customers, consumption, schema)

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
        col = spec.period_positions(self.consumption["period_start"])
        mat = np.full((len(self), spec.n_periods), np.nan)
        _place_readings(mat, row, col, self.consumption[spec.value].to_numpy(dtype=float), "consumption")
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
    def load(cls, folder: str | Path, schema: Schema | None = None, as_matrix: bool = False) -> Portfolio:
        """``as_matrix``: hold the series as the customers × periods matrix, read from the long
        file in batches (:class:`MatrixPortfolio`), for readers that only need the matrix. A
        folder written by :func:`save_reference` reads as those rows of its real split."""
        folder = Path(folder)
        if (folder / REFERENCE_FILE).exists():
            return _load_reference(folder, schema, as_matrix)
        for name in (CUSTOMERS_FILE, CONSUMPTION_FILE):
            if not (folder / name).exists():
                raise DataError(f"missing data file {folder / name}; run the stage that writes it")
        if schema is None:
            schema = Schema.load(folder / SCHEMA_FILE)
        customers = pd.read_parquet(folder / CUSTOMERS_FILE)
        if as_matrix:
            ids = customers[schema.id_column]
            return MatrixPortfolio(customers, read_series_matrix(folder / CONSUMPTION_FILE, ids, schema), schema)
        return cls(customers=customers, consumption=pd.read_parquet(folder / CONSUMPTION_FILE), schema=schema)


class MatrixPortfolio(Portfolio):
    """A portfolio holding its series as the customers × periods matrix, not as long rows.

    The evaluation only reads the matrix: a weekly customer is 157 long rows (id string,
    timestamp, kWh), several times the bytes of its matrix row, so at a million customers the
    long tables alone would not fit a small machine. The long table is rebuilt on demand.
    """

    def __init__(self, customers: pd.DataFrame, matrix: np.ndarray, schema: Schema) -> None:
        n_periods = 0 if schema.series is None else schema.series.n_periods
        if matrix.shape != (len(customers), n_periods):
            raise DataError(f"series matrix of shape {matrix.shape}, expected ({len(customers)}, {n_periods})")
        self.customers, self.schema = customers, schema
        # A read-only view: callers get this array itself, not a fresh copy as from the long
        # table (the array passed in stays writable).
        self._matrix = matrix.view()
        self._matrix.flags.writeable = False

    @property
    def consumption(self) -> pd.DataFrame:  # type: ignore[override]
        return Portfolio.consumption_from_matrix(self.ids, self._matrix, self.schema)

    def series_matrix(self) -> np.ndarray:
        return self._matrix

    def __repr__(self) -> str:  # the dataclass one would build the long table
        return f"MatrixPortfolio({len(self)} customers, series {self._matrix.shape})"


def save_reference(folder: str | Path, split_folder: str | Path, rows: np.ndarray) -> None:
    """Save the portfolio made of ``rows`` (positions, in order) of the real split in
    ``split_folder`` as those positions and the split's path: the folder holds no customer, so
    a DVC output written this way can go to a shared remote (the holdout reference's sample,
    ``models/holdout.py``). :meth:`Portfolio.load` reads it back, ids ``S0000001`` onwards as
    a sample's, from the split on this machine. The folder is replaced only once written."""
    from acacia.paths import staged_dir

    body = {"split": Path(split_folder).as_posix(), "rows": [int(r) for r in rows]}
    with staged_dir(Path(folder)) as tmp:
        (tmp / REFERENCE_FILE).write_text(json.dumps(body))


def _load_reference(folder: Path, schema: Schema | None, as_matrix: bool) -> Portfolio:
    try:
        ref = json.loads((folder / REFERENCE_FILE).read_text())
        split, rows = Path(ref["split"]), np.asarray(ref["rows"], dtype=np.int64)
    except (ValueError, KeyError, TypeError) as e:
        raise DataError(f"{folder / REFERENCE_FILE}: expected {{'split': path, 'rows': [positions]}} ({e})") from e
    if not split.is_dir():
        raise DataError(f"{folder / REFERENCE_FILE}: its rows are those of the real split {split}, which is not "
                        "on this machine (real splits are never pushed); run `dvc repro prepare` first")
    real = Portfolio.load(split, schema, as_matrix=True)
    if len(rows) and (rows.min() < 0 or rows.max() >= len(real)):
        raise DataError(f"{folder / REFERENCE_FILE}: row positions outside the {len(real)} customers of {split}; "
                        "the split changed since the sample: re-run its sample stage")
    customers = real.customers.iloc[rows].reset_index(drop=True)
    customers[real.schema.id_column] = make_ids("S", 0, len(rows)).to_numpy()
    matrix = real.series_matrix()[rows]
    if as_matrix:
        return MatrixPortfolio(customers, matrix, real.schema)
    ids = customers[real.schema.id_column]
    return Portfolio(customers, Portfolio.consumption_from_matrix(ids, matrix, real.schema), real.schema)


def read_series_matrix(path: str | Path, ids: pd.Series, schema: Schema, batch_rows: int = 1_000_000) -> np.ndarray:
    """Customers (in the order of ``ids``) × periods kWh from a long consumption Parquet file,
    NaN where no reading; the file is read ``batch_rows`` rows at a time, never whole."""
    spec = schema.series
    if spec is None:
        return np.empty((len(ids), 0))
    idc = schema.id_column
    row_of = pd.Index(ids)
    mat = np.full((len(ids), spec.n_periods), np.nan)
    # Ids as dictionaries: each batch's few distinct ids are looked up once, not per reading.
    source = pq.ParquetFile(path, read_dictionary=[idc])
    missing = {idc, "period_start", spec.value} - set(source.schema_arrow.names)
    if missing:
        raise DataError(f"{path}: missing column(s) {sorted(missing)} of the consumption table")
    for batch in source.iter_batches(batch_size=batch_rows, columns=[idc, "period_start", spec.value]):
        ident = batch.column(idc)
        if not pa.types.is_dictionary(ident.type):
            ident = ident.dictionary_encode()
        rows = row_of.get_indexer(ident.dictionary.to_pandas())
        row = rows[ident.indices.to_numpy(zero_copy_only=False)] if len(rows) else np.empty(0, dtype=np.int64)
        col = spec.period_positions(batch.column("period_start").to_pandas())
        _place_readings(mat, row, col, batch.column(spec.value).to_numpy(zero_copy_only=False).astype(float), str(path))
    return mat


def _place_readings(mat: np.ndarray, row: np.ndarray, col: np.ndarray, kwh: np.ndarray, source: str) -> None:
    """``mat[row, col] = kwh``, once every reading is known to fall on a customer and a period."""
    if (row < 0).any() or (col < 0).any():
        raise DataError(f"{source}: readings that match no customer or no period of the grid")
    mat[row, col] = kwh


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
