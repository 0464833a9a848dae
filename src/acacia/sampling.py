"""Sampling at portfolio scale: draw a synthetic portfolio chunk by chunk, straight to Parquet.

A million customers with weekly series is 157 million consumption rows; held at once as pandas
objects that is tens of GiB. Drawing ``chunk_size`` customers at a time and appending each chunk
to the Parquet files keeps memory bounded by two chunks (one drawn while the previous one is
written), whatever ``n``.

Chunk k is drawn with its own seed (``seed`` itself for the first chunk, so a sample that fits in
one chunk is exactly ``model.sample(n, seed=seed)``) and its customer ids are renumbered to
follow the previous chunks': a seed and a chunk size give the same files on every run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from acacia.data.ids import id_positions, make_ids, take_ids
from acacia.data.portfolio import CONSUMPTION_FILE, CUSTOMERS_FILE, SCHEMA_FILE, Portfolio
from acacia.errors import DataError, ParamsError
from acacia.models.base import Synthesizer

ID_PREFIX = "S"


def chunk_seed(seed: int, k: int) -> int:
    """Seed of chunk ``k``: ``seed`` for the first, independent streams for the others."""
    if k == 0:
        return seed
    return int(np.random.SeedSequence([seed, k]).generate_state(1)[0])


def renumber(part: Portfolio, start: int) -> Portfolio:
    """The same customers with ids ``S{start + 1}``, ``S{start + 2}``, ... in table order."""
    idc = part.schema.id_column
    new = make_ids(ID_PREFIX, start, len(part))
    row = id_positions(part.consumption[idc], part.customers[idc])
    if (row < 0).any():
        unknown = part.consumption[idc].iloc[int(np.argmax(row < 0))]
        raise DataError(f"sampled consumption for unknown customer '{unknown}'")
    customers = part.customers.assign(**{idc: new.array})
    consumption = part.consumption.assign(**{idc: take_ids(new, row).array})
    return Portfolio(customers, consumption, part.schema)


class _Appender:
    """One Parquet file written in row groups; the arrow schema is fixed by the first chunk, so a
    column that happens to be all-null in a later chunk keeps its type."""

    def __init__(self, path: Path) -> None:
        self.path, self.writer, self.schema = path, None, None

    def write(self, df: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(df, schema=self.schema, preserve_index=False)
        if self.writer is None:
            self.schema = table.schema
            self.writer = pq.ParquetWriter(self.path, self.schema)
        self.writer.write_table(table)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _write_part(files: dict[str, _Appender], part: Portfolio) -> None:
    files[CUSTOMERS_FILE].write(part.customers)
    files[CONSUMPTION_FILE].write(part.consumption)


def sample_to_parquet(model: Synthesizer, n: int, folder: str | Path, seed: int,
                      chunk_size: int = 50_000, validate: bool = True) -> int:
    """Write ``n`` synthetic customers to ``folder`` (customers, consumption, schema); returns
    how many were written (fewer than ``n`` only for a model that has fewer, the holdout).

    Nothing half-written is left: the files are built in a temp folder beside ``folder``, which
    replaces it only once every chunk is written."""
    if not isinstance(chunk_size, int | np.integer) or chunk_size < 1:
        raise ParamsError(f"sample.chunk_size: expected a positive integer, got {chunk_size!r}")
    if not model.chunkable:
        chunk_size = max(n, 1)
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    try:
        files = {CUSTOMERS_FILE: _Appender(tmp / CUSTOMERS_FILE),
                 CONSUMPTION_FILE: _Appender(tmp / CONSUMPTION_FILE)}
        schema, written = None, 0
        try:
            # Chunk k is written on a worker thread while chunk k + 1 is drawn: Parquet encoding
            # releases the GIL, so on two cores the two overlap. One write at a time keeps the
            # row groups in order and memory at two chunks; leaving the pool waits for it.
            with ThreadPoolExecutor(max_workers=1) as pool:
                pending = None
                for k, start in enumerate(range(0, max(n, 1), chunk_size)):
                    m = min(chunk_size, n - start)
                    part = renumber(model.sample(m, seed=chunk_seed(seed, k)), start)
                    if validate:
                        part.validate(source=f"synthetic chunk {k}")
                    if pending is not None:
                        pending.result()  # a failed write stops the run here
                    pending = pool.submit(_write_part, files, part)
                    schema, written = part.schema, written + len(part)
                if pending is not None:
                    pending.result()
        finally:
            for f in files.values():
                f.close()
        schema.save(tmp / SCHEMA_FILE)
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return written
