"""The faster Anonymeter searches give exactly what a full scan gives."""

from __future__ import annotations

import numpy as np

from acacia.evaluation.anonymeter.inference import _nearest_guesses
from acacia.evaluation.anonymeter.singling_out import (
    EQ,
    GE,
    IS_NULL,
    LE,
    Predicates,
    SortedColumns,
    _random_columns,
    isolates_one,
    match_counts,
)
from acacia.evaluation.anonymeter.table import column_distance, gower, scaled


def table(n: int = 1500, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.column_stack([np.round(rng.lognormal(0, 1, n), 1), rng.integers(0, 4, n), rng.integers(0, 3, n),
                         np.round(rng.normal(0, 1, n), 2), rng.integers(0, 60, n)]).astype(float)
    x[rng.random(x.shape) < 0.05] = np.nan
    return x, np.array([True, False, False, True, True])


def test_sorted_runs_isolate_the_same_rows_as_a_full_scan():
    x, numeric = table()
    rng = np.random.default_rng(1)
    medians = np.nanmedian(x, axis=0)
    sorted_columns = SortedColumns(x)
    for k in (1, 2, 3):
        cols = _random_columns(3000, x.shape[1], k, rng)
        vals = x[rng.integers(0, len(x), 3000)[:, None], cols]
        with np.errstate(invalid="ignore"):
            ordered = np.where(vals > medians[cols], GE, LE)
        p = Predicates(cols, np.where(np.isnan(vals), IS_NULL, np.where(numeric[cols], ordered, EQ)), vals)
        expected = match_counts(x, p) == 1
        assert 0 < expected.sum() < len(p), k  # both answers occur
        for probe in (1, 32):  # the probe only decides early; the full check agrees
            assert np.array_equal(isolates_one(sorted_columns, p, probe=probe), expected), (k, probe)


def test_inference_searches_only_near_rows_and_guesses_as_a_full_search():
    x, numeric = table(800, 2)
    syn, targets = x[:600], x[600:]
    cols = list(range(x.shape[1]))
    t, s = scaled(targets, syn, numeric)
    total = gower(t, s, numeric, cols)
    expected = np.empty((len(t), len(cols)))
    for j, c in enumerate(cols):
        d = np.round(total - column_distance(t[:, c], s[:, c], bool(numeric[c])), 9)
        expected[:, j] = syn[np.argmin(d, axis=1), c]
    assert np.array_equal(_nearest_guesses(targets, syn, numeric, cols, cols), expected, equal_nan=True)
