"""Singling out: predicates read off the synthetic rows that isolate one real customer.

The attacker writes predicates from the synthetic data alone, keeping those that match exactly
one synthetic row; an attack succeeds when its predicate matches exactly one training row
(``anonymeter.evaluators.singling_out_evaluator``; Cohen & Nissim 2020). The tables are
deduplicated first. Two ways of writing predicates:

- ``univariate``: one condition from a rare value: ``x ≤ min`` / ``x ≥ max`` of an ordered
  column, ``x = v`` for a value seen once, ``x is null`` for a column with a single null;
- ``multivariate``: a random synthetic row and ``n_cols`` random columns, each condition
  ``x = v`` for labels, ``x ≥ v`` when v is above the column's synthetic median and ``x ≤ v``
  otherwise (the direction in which few rows remain), ``x is null`` for a null.

The control attack checks the same predicates on the control rows. A predicate is likelier to
isolate one row of a smaller table, so both tables must be the same size: the larger of the
(deduplicated) training and control tables is cut to the smaller one's size by a seeded draw.
This departs from Anonymeter, which keeps both and rescales the control count by fit(n_train) /
fit(n_control), fitting norm·∫₀^w n·w·(1−w)^(n−1) dw to counts on control subsamples. On every
table we tried, its ``curve_fit`` from its starting point ends on the bound w = 1, where the
factor is (n_control + 1) / (n_train + 1): a control half the training size has its successes
halved where they should grow, and real unseen data scores a clearly positive risk (see
``tests/test_anonymeter.py``). A least-squares refit of the same model gave factors spread much
wider than those that cutting the training table measured: the extrapolation is too unstable to
lean on. Equal sizes need no model. The price: a cut training table dilutes a leak (a predicate
isolating a copied customer left out of the cut matches nobody), which happens only when the
split gives the training side more rows than the control side.

The baseline writes random predicates: random columns, a random synthetic value per column and
a random operator (=, ≠, and for ordered columns <, >, ≤, ≥).

As in Anonymeter, every rate is over ``n_attacks``, the number of predicates asked for: when the
synthetic data yields fewer (a small table, or ``max_attempts`` reached), the risk is a lower
bound, and a warning says so.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np

from acacia.evaluation.anonymeter.risk import RiskResult, risk_from_counts
from acacia.evaluation.anonymeter.table import CHUNK_CELLS, AttackData, pick_targets, unique_rows

log = logging.getLogger(__name__)

EQ, NE, LT, GT, LE, GE, IS_NULL, NOT_NULL = range(8)  # operator codes of a condition
MODES = ("univariate", "multivariate")


@dataclass(frozen=True)
class Predicates:
    """Conjunctions of conditions ``column op value``: one predicate per row of the arrays."""

    columns: np.ndarray  # (n, k) column indices
    ops: np.ndarray  # (n, k) operator codes
    values: np.ndarray  # (n, k) floats (NaN for the null tests)

    def __len__(self) -> int:
        return len(self.columns)


def _condition(x: np.ndarray, op: int, v: np.ndarray) -> np.ndarray:
    # Comparisons with NaN are False, as a null makes a polars predicate null (never counted),
    # except ≠, which numpy makes True.
    if op == EQ:
        return x == v
    if op == NE:
        return (x != v) & ~np.isnan(x)
    if op in (LT, GT, LE, GE):
        return {LT: np.less, GT: np.greater, LE: np.less_equal, GE: np.greater_equal}[op](x, v)
    return np.isnan(x) if op == IS_NULL else ~np.isnan(x)


def match_counts(x: np.ndarray, p: Predicates) -> np.ndarray:
    """How many rows of ``x`` each predicate matches."""
    columns = np.ascontiguousarray(x.T)  # one column's values gathered per condition
    step = max(1, CHUNK_CELLS // max(len(x), 1))
    counts = np.zeros(len(p), dtype=int)
    for start in range(0, len(p), step):
        rows = slice(start, start + step)
        cols, ops, vals = p.columns[rows], p.ops[rows], p.values[rows]
        m = np.ones((len(cols), len(x)), dtype=bool)
        for j in range(cols.shape[1]):
            for op in np.unique(ops[:, j]):
                sel = np.flatnonzero(ops[:, j] == op)
                m[sel] &= _condition(columns[cols[sel, j]], int(op), vals[sel, j][:, None])
        counts[rows] = m.sum(axis=1)
    return counts


class SortedColumns:
    """Each column's rows sorted by value (nulls last), so that the rows matching one condition
    ``x = v``, ``x ≤ v``, ``x ≥ v`` or ``x is null`` are a contiguous run of the sort order."""

    def __init__(self, x: np.ndarray) -> None:
        self.order = np.argsort(x, axis=0, kind="stable").T.copy()  # NaN sorts last
        self.values = np.take_along_axis(x, self.order.T, axis=0).T.copy()
        self.n_valid = (~np.isnan(x)).sum(axis=0)
        self.columns = np.ascontiguousarray(x.T)

    def run(self, c: int, op: int, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Bounds [lo, hi) in column ``c``'s sort order of the rows matching ``x op v``."""
        sorted_valid = self.values[c, : self.n_valid[c]]
        n, nv = self.values.shape[1], self.n_valid[c]
        if op == EQ:
            return np.searchsorted(sorted_valid, v, "left"), np.searchsorted(sorted_valid, v, "right")
        if op == GE:
            return np.searchsorted(sorted_valid, v, "left"), np.full(len(v), nv)
        if op == LE:
            return np.zeros(len(v), dtype=int), np.searchsorted(sorted_valid, v, "right")
        if op == IS_NULL:
            return np.full(len(v), nv), np.full(len(v), n)
        raise ValueError(f"operator {op}: not a condition a singling-out predicate is built from")


def isolates_one(table: SortedColumns, p: Predicates, probe: int = 32) -> np.ndarray:
    """``match_counts(x, p) == 1`` for predicates read off rows of ``x`` (=, ≤, ≥, is null),
    without scanning every row for every predicate.

    Such a predicate matches its own row, so it isolates one row exactly when no other row
    meets every condition. Each condition's matching rows are a run of its column's sort order;
    a run of length one settles the question, otherwise only the rows of the shortest run are
    checked against the other conditions. The answer is the same as a full scan's."""
    n, k = p.columns.shape
    lo, hi = np.empty((n, k), dtype=int), np.empty((n, k), dtype=int)
    for j in range(k):
        for c in np.unique(p.columns[:, j]):
            for op in np.unique(p.ops[p.columns[:, j] == c, j]):
                sel = np.flatnonzero((p.columns[:, j] == c) & (p.ops[:, j] == op))
                lo[sel, j], hi[sel, j] = table.run(int(c), int(op), p.values[sel, j])
    size = hi - lo
    shortest = size.argmin(axis=1)
    at = np.arange(n)
    out = size[at, shortest] <= 1
    # Most candidates match many rows: the first ``probe`` rows of the shortest run, checked for
    # every candidate at once, show a second match; only the undecided ones get a full check.
    first = lo[at, shortest][:, None] + np.arange(probe)[None, :]
    inside = first < hi[at, shortest][:, None]
    rows = table.order[p.columns[at, shortest][:, None], np.minimum(first, table.order.shape[1] - 1)]
    m = inside & ~out[:, None]
    for j in range(k):
        for op in np.unique(p.ops[:, j]):
            sel = np.flatnonzero(p.ops[:, j] == op)
            values = table.columns[p.columns[sel, j][:, None], rows[sel]]
            m[sel] &= _condition(values, int(op), p.values[sel, j][:, None])
    decided = out | (m.sum(axis=1) >= 2)
    for i in np.flatnonzero(~decided):
        j0 = shortest[i]
        rows = table.order[p.columns[i, j0], lo[i, j0]: hi[i, j0]]
        m = np.ones(len(rows), dtype=bool)
        for j in range(k):
            if j != j0:
                m &= _condition(table.columns[p.columns[i, j], rows], int(p.ops[i, j]), p.values[i, j])
        out[i] = m.sum() == 1
    return out


def univariate_predicates(syn: np.ndarray, numeric: np.ndarray, n: int, rng: np.random.Generator) -> Predicates:
    """Up to ``n`` one-condition predicates isolating one row of ``syn`` (see the module doc).

    Each candidate's count is known from the value counts, so none is evaluated here."""
    cols: list[np.ndarray] = []
    ops: list[np.ndarray] = []
    vals: list[np.ndarray] = []

    def add(c: int, op: int, v: np.ndarray) -> None:
        cols.append(np.full(len(v), c))
        ops.append(np.full(len(v), op))
        vals.append(np.asarray(v, dtype=float))

    for c in range(syn.shape[1]):
        null = np.isnan(syn[:, c])
        if null.sum() == 1:
            add(c, IS_NULL, np.array([np.nan]))
        values, counts = np.unique(syn[~null, c], return_counts=True)
        if numeric[c] and len(values):
            add(c, LE, values[:1][counts[:1] == 1])
            add(c, GE, values[-1:][counts[-1:] == 1])
        add(c, EQ, values[counts == 1])
    if not cols:
        return Predicates(np.zeros((0, 1), int), np.zeros((0, 1), int), np.zeros((0, 1)))
    order = rng.permutation(sum(len(c) for c in cols))[:n]
    return Predicates(*(np.concatenate(a)[order][:, None] for a in (cols, ops, vals)))


def _random_columns(n: int, n_columns: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` sets of ``k`` distinct columns, each sorted (a predicate's canonical form)."""
    return np.sort(np.argsort(rng.random((n, n_columns)), axis=1)[:, :k], axis=1)


def multivariate_predicates(
    syn: np.ndarray, numeric: np.ndarray, n: int, n_cols: int, max_attempts: int,
    rng: np.random.Generator, batch: int = 1000,
) -> Predicates:
    """Up to ``n`` distinct ``n_cols``-condition predicates isolating one row of ``syn``, from at
    most ``max_attempts`` candidates."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-null columns
        medians = np.where(numeric, np.nanmedian(syn, axis=0), np.nan)
    kept: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    seen: set[bytes] = set()
    attempts = 0
    # Up to max_attempts candidates, each checked against every synthetic row: by sort runs
    # (isolates_one) rather than full scans, which cost candidates × rows × n_cols.
    table = SortedColumns(syn)
    while len(kept) < n and attempts < max_attempts and len(syn):
        size = min(batch, max_attempts - attempts)
        attempts += size
        cols = _random_columns(size, syn.shape[1], n_cols, rng)
        vals = syn[rng.integers(0, len(syn), size)[:, None], cols]
        with np.errstate(invalid="ignore"):
            ordered = np.where(vals > medians[cols], GE, LE)
        ops = np.where(np.isnan(vals), IS_NULL, np.where(numeric[cols], ordered, EQ))
        batch_p = Predicates(cols, ops, vals)
        for i in np.flatnonzero(isolates_one(table, batch_p)):
            key = cols[i].tobytes() + ops[i].tobytes() + np.nan_to_num(vals[i]).tobytes()
            if key not in seen:
                seen.add(key)
                kept.append((cols[i], ops[i], vals[i]))
                if len(kept) == n:
                    break
    if not kept:
        return Predicates(np.zeros((0, n_cols), int), np.zeros((0, n_cols), int), np.zeros((0, n_cols)))
    return Predicates(*(np.array(a) for a in zip(*kept, strict=True)))


def random_predicates(syn: np.ndarray, numeric: np.ndarray, n: int, k: int, rng: np.random.Generator) -> Predicates:
    """The baseline attacker's predicates (random columns, synthetic values and operators)."""
    cols = _random_columns(n, syn.shape[1], k, rng)
    vals = np.empty(cols.shape)
    for c in range(syn.shape[1]):
        at = cols == c
        if at.any():
            distinct = np.unique(syn[:, c])  # nulls (NaN) count as one value, as in Anonymeter
            vals[at] = distinct[rng.integers(0, len(distinct), at.sum())] if len(distinct) else np.nan
    draw = rng.random(cols.shape)
    ordered = np.array([EQ, NE, GT, LT, GE, LE])[(draw * 6).astype(int)]
    labelled = np.array([EQ, NE])[(draw * 2).astype(int)]
    ops = np.where(numeric[cols], ordered, labelled)
    ops = np.where(np.isnan(vals), np.where(ops == EQ, IS_NULL, NOT_NULL), ops)
    return Predicates(cols, ops, vals)


def singling_out_risk(
    data: AttackData,
    mode: str = "multivariate",
    n_attacks: int = 500,
    n_cols: int = 3,
    max_attempts: int = 100_000,
    seed: int = 0,
    confidence: float = 0.95,
) -> RiskResult:
    """Singling-out risk of ``data.syn`` (see the module docstring)."""
    if mode not in MODES:
        raise ValueError(f"mode: '{mode}', expected one of {list(MODES)}")
    if n_attacks < 1 or max_attempts < 1:
        raise ValueError(f"n_attacks and max_attempts: expected ≥ 1, got {n_attacks} and {max_attempts}")
    k = 1 if mode == "univariate" else n_cols
    if not 1 <= k <= len(data.columns):
        raise ValueError(f"n_cols: expected 1 to {len(data.columns)} (the number of columns), got {n_cols}")
    ori, syn, control = (unique_rows(x) for x in (data.ori, data.syn, data.control))
    if len(syn) == 0 or len(ori) == 0 or len(control) == 0:
        return risk_from_counts(0, 0, 0, 0, 0, 0, confidence)
    rng = np.random.default_rng(seed)
    n_rows = min(len(ori), len(control))
    ori, control = (x[pick_targets(len(x), n_rows, rng)] for x in (ori, control))
    numeric = data.numeric
    if mode == "univariate":
        queries = univariate_predicates(syn, numeric, n_attacks, rng)
    else:
        queries = multivariate_predicates(syn, numeric, n_attacks, n_cols, max_attempts, rng)
    if len(queries) < n_attacks:
        log.warning("singling out (%s): %d predicates out of %d asked; the risk is underestimated",
                    mode, len(queries), n_attacks)
    main = int((match_counts(ori, queries) == 1).sum())
    control_success = int((match_counts(control, queries) == 1).sum())
    baseline = int((match_counts(ori, random_predicates(syn, numeric, n_attacks, k, rng)) == 1).sum())
    return risk_from_counts(n_attacks, main, n_attacks, control_success, n_attacks, baseline, confidence)
