"""Attribute inference: does the synthetic data reveal a customer's secret column?

The attacker knows a target's auxiliary columns, finds the closest synthetic row on them and
reads its value of the secret column (``anonymeter.evaluators.inference_evaluator`` with its
default nearest-neighbour model). A guess is correct when equal to the secret, or, for numbers
and integers, within a relative ``tolerance`` of it: |guess − secret| ≤ tolerance·|guess|; two
nulls are equal. The main attack targets training rows, the control attack control rows; the
baseline guesses the secret of a random synthetic row.

Departures from Anonymeter, none of which enters the risk of a non-negative secret:
- Anonymeter divides by ``guess`` rather than ``|guess|``, so every negative guess counts as
  correct; the absolute value keeps the tolerance symmetric (e.g. a negative autocorrelation).
- Dates are guessed to the day: a relative tolerance on days since 1970 would accept ±2.5
  years (Anonymeter, which sees a date column as non-numeric, also asks for equality).
- Anonymeter's baseline re-indexes the random synthetic guesses on the targets' index, so most
  of its guesses come out null; here each target gets the secret of one random synthetic row.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from acacia.evaluation.anonymeter.risk import RiskResult, risk_from_counts
from acacia.evaluation.anonymeter.table import (
    AttackData,
    chunks,
    column_distance,
    gower,
    pick_targets,
    scaled,
)

TOLERANT_KINDS = ("numerical", "integer")


def correct_guesses(guesses: np.ndarray, secrets: np.ndarray, tolerant: np.ndarray, tolerance: float) -> np.ndarray:
    """Element-wise success of guesses (columns: secrets; ``tolerant`` per column)."""
    both_null = np.isnan(guesses) & np.isnan(secrets)
    with np.errstate(invalid="ignore"):
        close = np.abs(guesses - secrets) <= tolerance * np.abs(guesses)
    return both_null | np.where(tolerant, close, guesses == secrets)


def _nearest_guesses(targets: np.ndarray, syn: np.ndarray, numeric: np.ndarray,
                     secrets: list[int], aux: list[int]) -> np.ndarray:
    """(targets, secrets) values of the closest synthetic row on ``aux`` minus the secret."""
    t, s = scaled(targets, syn, numeric)
    guesses = np.empty((len(t), len(secrets)))
    for rows in chunks(len(t), len(s)):
        # One distance over every auxiliary column, then the secret's own share taken out:
        # the secrets' searches cost one column each instead of all of them.
        total = gower(t[rows], s, numeric, aux)
        # A column's share is at most 1, so the closest row without the secret's column is one
        # whose total is within 1 of the smallest total (the margin keeps rounding ties in):
        # only those rows are searched, in row order, so the first of tied rows still wins.
        near = total <= total.min(axis=1, keepdims=True) + 1.0 + 1e-6
        for i, target in enumerate(range(rows.start, rows.stop)):
            idx = np.flatnonzero(near[i])
            sub = total[i, idx]
            for j, c in enumerate(secrets):
                if c in aux:
                    d = sub - column_distance(t[target : target + 1, c], s[idx, c], bool(numeric[c]))[0]
                else:
                    d = sub
                # Rounding makes equal sums equal whatever the order of the additions, so a
                # tie goes to the first synthetic row.
                guesses[target, j] = syn[idx[np.argmin(np.round(d, 9))], c]
    return guesses


def inference_risks(
    data: AttackData,
    secrets: Sequence[str] | None = None,
    aux: Sequence[str] | None = None,
    n_attacks: int = 500,
    tolerance: float = 0.05,
    seed: int = 0,
    confidence: float = 0.95,
) -> dict[str, RiskResult]:
    """The inference risk of each secret column (default: every column), the attacker knowing
    ``aux`` (default: every column) except the secret itself."""
    if n_attacks < 1:
        raise ValueError(f"n_attacks: expected ≥ 1, got {n_attacks}")
    if not tolerance >= 0:
        raise ValueError(f"tolerance: expected ≥ 0, got {tolerance!r}")
    sec = data.index(list(data.columns) if secrets is None else secrets, "secrets")
    known = data.index(list(data.columns) if aux is None else aux, "aux")
    lonely = [data.columns[c] for c in sec if not set(known) - {c}]
    if lonely:
        raise ValueError(f"aux: no auxiliary column left to guess the secret(s) {lonely}")
    tolerant = np.array([data.kinds[c] in TOLERANT_KINDS for c in sec])
    n_main, n_control = min(n_attacks, len(data.ori)), min(n_attacks, len(data.control))
    n_baseline = min(len(data.syn), n_main)
    names = [data.columns[c] for c in sec]
    if len(data.syn) == 0 or n_main == 0 or n_control == 0:
        return {name: risk_from_counts(0, 0, 0, 0, 0, 0, confidence) for name in names}

    rng = np.random.default_rng(seed)
    success = {}
    for who, table, n in (("main", data.ori, n_main), ("control", data.control, n_control)):
        targets = table[pick_targets(len(table), n, rng)]
        guesses = _nearest_guesses(targets, data.syn, data.numeric, sec, known)
        success[who] = correct_guesses(guesses, targets[:, sec], tolerant, tolerance).sum(axis=0)
    targets = data.ori[pick_targets(len(data.ori), n_baseline, rng)][:, sec]
    random_rows = rng.choice(len(data.syn), n_baseline, replace=False)
    success["baseline"] = correct_guesses(data.syn[random_rows][:, sec], targets, tolerant, tolerance).sum(axis=0)
    return {
        name: risk_from_counts(n_main, success["main"][j], n_control, success["control"][j],
                               n_baseline, success["baseline"][j], confidence)
        for j, name in enumerate(names)
    }
