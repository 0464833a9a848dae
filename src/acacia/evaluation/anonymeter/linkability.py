"""Linkability: can the synthetic rows join two partial views of the same real customer?

The attacker holds two tables about the same people, one with the columns ``aux[0]`` and one
with ``aux[1]``. For a target row, he looks up its ``n_neighbors`` closest synthetic rows on
each view; the target is *linked* when the two lists share a synthetic row
(``anonymeter.evaluators.linkability_evaluator``). The main attack targets training rows, the
control attack as many control rows; the baseline draws both lists at random.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from acacia.evaluation.anonymeter.risk import RiskResult, risk_from_counts
from acacia.evaluation.anonymeter.table import (
    AttackData,
    chunks,
    gower,
    k_nearest,
    pick_targets,
    scaled,
)


def _linked(targets: np.ndarray, syn: np.ndarray, numeric: np.ndarray,
            aux: tuple[list[int], list[int]], k: int) -> np.ndarray:
    t, s = scaled(targets, syn, numeric)
    out = np.zeros(len(t), dtype=bool)
    for rows in chunks(len(t), len(s)):
        first = k_nearest(gower(t[rows], s, numeric, aux[0]), k)
        second = k_nearest(gower(t[rows], s, numeric, aux[1]), k)
        out[rows] = (first[:, :, None] == second[:, None, :]).any(axis=(1, 2))
    return out


def _random_links(n: int, n_syn: int, k: int, rng: np.random.Generator) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    for rows in chunks(n, n_syn):
        # k distinct synthetic rows per target and view: those of the k smallest uniform keys.
        first, second = (k_nearest(rng.random((rows.stop - rows.start, n_syn)), k) for _ in range(2))
        out[rows] = (first[:, :, None] == second[:, None, :]).any(axis=(1, 2))
    return out


def linkability_risk(
    data: AttackData,
    aux: tuple[Sequence[str], Sequence[str]],
    n_attacks: int = 500,
    n_neighbors: int = 1,
    seed: int = 0,
    confidence: float = 0.95,
) -> RiskResult:
    """Linkability risk of ``data.syn`` for the two auxiliary column sets ``aux``.

    ``n_attacks`` targets are drawn from the training rows and as many from the control rows
    (all of them when fewer: Anonymeter requires both sets to hold ``n_attacks`` rows).
    """
    if len(aux) != 2 or not aux[0] or not aux[1]:
        raise ValueError(f"aux: expected two non-empty lists of columns, got {aux!r}")
    if n_attacks < 1 or n_neighbors < 1:
        raise ValueError(f"n_attacks and n_neighbors: expected ≥ 1, got {n_attacks} and {n_neighbors}")
    cols = (data.index(aux[0], "aux[0]"), data.index(aux[1], "aux[1]"))
    n = min(n_attacks, len(data.ori), len(data.control))
    n_syn = len(data.syn)
    if n == 0 or n_syn == 0:
        return risk_from_counts(0, 0, 0, 0, 0, 0, confidence)
    k = min(n_neighbors, n_syn)
    rng = np.random.default_rng(seed)
    main = _linked(data.ori[pick_targets(len(data.ori), n, rng)], data.syn, data.numeric, cols, k)
    control = _linked(data.control[pick_targets(len(data.control), n, rng)], data.syn, data.numeric, cols, k)
    baseline = _random_links(n, n_syn, k, rng)
    return risk_from_counts(n, main.sum(), n, control.sum(), n, baseline.sum(), confidence)
