"""The attacked rows as float matrices, and Anonymeter's mixed-type (Gower-like) distance.

Every column becomes float64 with NaN for nulls: numbers as they are (dates as days since
1970-01-01), labels as integer codes shared by the original, synthetic and control rows, so a
predicate or a distance means the same thing on all three.

Distance between two rows (``anonymeter.neighbors.mixed_types_kneighbors``): the sum over columns
of |a − b| / range for numbers, the range taken over the synthetic rows and the attacked rows
together so that each number contributes at most 1, and of 0 / 1 (equal / different) for labels.
Nulls are where we depart from Anonymeter, whose numba kernel adds 1 when *both* values are null
and returns NaN (never a neighbour) when one is: here a null is one more level, at 0 from a null
and 1 from any value, as :func:`acacia.evaluation.features.labels` treats it elsewhere.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from acacia.errors import DataError
from acacia.evaluation.features import (
    LABEL_KINDS,
    NULL_LABEL,
    NUMERIC_KINDS,
    check_columns,
    labels,
    numeric_values,
)

# Distance matrices are built for this many (target, synthetic) pairs at a time (8 bytes each).
CHUNK_CELLS = 1 << 21


@dataclass(frozen=True)
class AttackData:
    """Original (training), synthetic and control rows over the same columns, encoded."""

    columns: list[str]
    kinds: list[str]
    ori: np.ndarray
    syn: np.ndarray
    control: np.ndarray

    @classmethod
    def from_frames(
        cls, ori: pd.DataFrame, syn: pd.DataFrame, control: pd.DataFrame, kinds: dict[str, str]
    ) -> AttackData:
        columns = check_columns(ori, kinds, "original")
        check_columns(syn, kinds, "synthetic")
        check_columns(control, kinds, "control")
        frames = (ori, syn, control)
        blocks: list[list[np.ndarray]] = [[], [], []]
        for c in columns:
            kind = kinds[c]
            if kind in NUMERIC_KINDS:
                encoded = [numeric_values(f[c], kind) for f in frames]
            elif kind in LABEL_KINDS:
                labs = [labels(f[c], kind) for f in frames]
                codes, _ = pd.factorize(np.concatenate(labs))
                codes = np.where(np.concatenate(labs) == NULL_LABEL, np.nan, codes.astype(float))
                encoded = np.split(codes, np.cumsum([len(x) for x in labs])[:-1])
            else:
                raise DataError(f"anonymeter: column '{c}' has kind '{kind}', expected one of "
                                f"{list(NUMERIC_KINDS + LABEL_KINDS)}")
            for block, values in zip(blocks, encoded, strict=True):
                block.append(values)
        ori_m, syn_m, control_m = (
            np.column_stack(b) if b else np.zeros((len(f), 0)) for b, f in zip(blocks, frames, strict=True)
        )
        return cls(columns, [kinds[c] for c in columns], ori_m, syn_m, control_m)

    @property
    def numeric(self) -> np.ndarray:
        """Ordered columns (numbers and dates): range-scaled distance, ≤ / ≥ predicates."""
        return np.array([k in NUMERIC_KINDS for k in self.kinds], dtype=bool)

    def index(self, names: Sequence[str], parameter: str) -> list[int]:
        unknown = [n for n in names if n not in self.columns]
        if unknown:
            raise DataError(f"{parameter}: unknown column(s) {unknown}, expected some of {self.columns}")
        return [self.columns.index(n) for n in names]


def unique_rows(x: np.ndarray) -> np.ndarray:
    """Distinct rows in first-seen order, nulls equal to nulls (Anonymeter deduplicates the
    tables before singling out: a query cannot single out one of two identical customers)."""
    return pd.DataFrame(x).drop_duplicates().to_numpy(dtype=float)


def scaled(targets: np.ndarray, syn: np.ndarray, numeric: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both matrices ready for :func:`gower`: numbers divided by their range over the two
    together, so any two differ by at most 1, and nulls as an out-of-range value (numbers) or
    code (labels), so that a null is at 1 from any value and at 0 from a null."""
    both = np.vstack([targets, syn])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-null columns
        low = np.nanmin(both, axis=0) if len(both) else np.zeros(both.shape[1])
        spread = np.nanmax(both, axis=0) - low if len(both) else np.ones(both.shape[1])
    scale = np.where(numeric & (spread > 0), spread, 1.0)
    shift = np.where(numeric & np.isfinite(low), low, 0.0)
    # Scaled numbers lie in [0, 1], label codes are ≥ 0: −2 is out of reach of both, and the
    # numeric distance is capped at 1 (see column_distance).
    return tuple(np.nan_to_num((x - shift) / scale, nan=-2.0) for x in (targets, syn))


def column_distance(t: np.ndarray, s: np.ndarray, numeric: bool, out: np.ndarray | None = None) -> np.ndarray:
    """(len(t), len(s)) distances of one column of :func:`scaled` matrices."""
    if out is None:
        out = np.empty((len(t), len(s)))
    if not numeric:
        return np.not_equal.outer(t, s, out=out)
    np.subtract.outer(t, s, out=out)
    np.abs(out, out=out)
    if len(t) and len(s) and t.min() >= 0 and s.min() >= 0:
        return out  # no null on either side: scaled values in [0, 1] are at most 1 apart
    return np.minimum(out, 1.0, out=out)  # a null (−2) is at exactly 1 from any value


def gower(t: np.ndarray, s: np.ndarray, numeric: np.ndarray, columns: Sequence[int]) -> np.ndarray:
    d = np.zeros((len(t), len(s)))
    one = np.empty_like(d)
    for c in columns:
        d += column_distance(t[:, c], s[:, c], bool(numeric[c]), out=one)
    return d


def chunks(n_targets: int, n_syn: int) -> Iterator[slice]:
    step = max(1, CHUNK_CELLS // max(n_syn, 1))
    for start in range(0, n_targets, step):
        yield slice(start, min(start + step, n_targets))


def pick_targets(n_rows: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``n`` distinct rows (all rows, in order, when ``n`` ≥ ``n_rows``)."""
    return np.arange(n_rows) if n >= n_rows else np.sort(rng.choice(n_rows, n, replace=False))


def k_nearest(d: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k smallest distances per row (k = 1: the first of equal ones)."""
    if k == 1:
        return np.argmin(d, axis=1)[:, None]
    return np.argpartition(d, k - 1, axis=1)[:, :k]
