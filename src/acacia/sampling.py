"""Sampling at portfolio scale: draw a synthetic portfolio chunk by chunk, straight to Parquet.

A million customers with weekly series is 157 million consumption rows; held at once as pandas
objects that is tens of GiB. Drawing ``chunk_size`` customers at a time and appending each chunk
to the Parquet files keeps memory bounded by a few chunks (one or two drawn while the previous
one is written), whatever ``n``.

Chunk k is drawn with its own seed (``seed`` itself for the first chunk, so a sample that fits in
one chunk is exactly ``model.sample(n, seed=seed)``) and with customer ids that follow the
previous chunks' (``id_start``): a seed and a chunk size give the same files on every run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from acacia.data.portfolio import CONSUMPTION_FILE, CUSTOMERS_FILE, SCHEMA_FILE, Portfolio
from acacia.errors import ParamsError
from acacia.models.base import Synthesizer


def chunk_seed(seed: int, k: int) -> int:
    """Seed of chunk ``k``: ``seed`` for the first, independent streams for the others."""
    if k == 0:
        return seed
    return int(np.random.SeedSequence([seed, k]).generate_state(1)[0])


class _Appender:
    """One Parquet file written in row groups; the arrow schema is fixed by the first chunk, so a
    column that happens to be all-null in a later chunk keeps its type."""

    def __init__(self, path: Path) -> None:
        self.path, self.writer, self.schema = path, None, None

    def write(self, df: pd.DataFrame, **options) -> None:
        """Append ``df``; ``options`` (pyarrow's ParquetWriter's) take effect on the first call."""
        table = pa.Table.from_pandas(df, schema=self.schema, preserve_index=False)
        if self.writer is None:
            self.schema = table.schema
            self.writer = pq.ParquetWriter(self.path, self.schema, **options)
        self.writer.write_table(table)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _write_part(files: dict[str, _Appender], part: Portfolio, validate: str | None) -> None:
    if validate is not None:
        part.validate(source=validate)
    files[CUSTOMERS_FILE].write(part.customers)
    # A dictionary suits the ids and dates (few distinct values, millions of rows), not the
    # kWh (almost all distinct: trying costs time and saves nothing); min / max of string ids
    # are the costliest statistics and serve no reader. Both choices write a chunk faster and
    # a slightly smaller file than the writer's defaults.
    idc, value = part.schema.id_column, part.schema.series.value if part.schema.series else "kwh"
    files[CONSUMPTION_FILE].write(part.consumption, use_dictionary=[idc, "period_start"],
                                  write_statistics=["period_start", value])


def _draw_threads(model: Synthesizer) -> int:
    """Chunks drawn at once: two when both the model and its series decoder are NumPy-only."""
    series = getattr(getattr(model, "codec_", None), "series_", None)
    return 2 if model.thread_safe_sampling and getattr(series, "thread_safe_decoding", False) else 1


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
            # Chunk k is validated and written on a worker thread while the next chunks are
            # drawn: Parquet encoding and most of the checks (NumPy, Arrow) release the GIL, so
            # on two cores they overlap. One write at a time keeps the row groups in order.
            # A NumPy-only model also draws two chunks at once (:func:`_draw_threads`): its array
            # work releases the GIL too. Memory: the chunks being drawn plus the one written.
            draws = _draw_threads(model)
            starts = list(range(0, max(n, 1), chunk_size))
            with ThreadPoolExecutor(max_workers=1) as writer, ThreadPoolExecutor(max_workers=draws) as drawer:
                def draw(k: int):
                    return drawer.submit(model.sample, min(chunk_size, n - starts[k]), seed=chunk_seed(seed, k),
                                         id_start=starts[k])

                drawing = deque(draw(k) for k in range(min(draws, len(starts))))
                pending = None
                for k in range(len(starts)):
                    part = drawing.popleft().result()
                    if pending is not None:
                        pending.result()  # a failed check or write stops the run here
                    pending = writer.submit(_write_part, files, part, f"synthetic chunk {k}" if validate else None)
                    schema, written = part.schema, written + len(part)
                    if k + draws < len(starts):
                        drawing.append(draw(k + draws))
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
