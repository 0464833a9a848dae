"""Helpers every use case shares: checked settings, labels, and small statistics."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from acacia.errors import DataError, ParamsError
from acacia.evaluation.features import NULL_LABEL, labels

REAL_ONLY = "real_only"  # the learning-curve line of models trained on real data alone


def check_keys(cfg: dict[str, Any] | None, defaults: dict[str, Any], section: str) -> dict[str, Any]:
    """``defaults`` updated with ``cfg``; an unknown key is an error naming the section."""
    cfg = dict(cfg or {})
    unknown = set(cfg) - set(defaults)
    if unknown:
        raise ParamsError(f"{section}: unknown key(s) {sorted(unknown)}, expected some of {sorted(defaults)}")
    return {**defaults, **cfg}


def binary_target(customers: pd.DataFrame, column: str, positive: list[str] | None,
                  source: str) -> np.ndarray:
    """1.0 / 0.0 per customer, NaN where the label is missing.

    ``positive``: the labels counted as 1 (``None``: ``True`` for a boolean column), so a
    categorical column such as ``heating_energy`` can define electric heating as well.
    """
    if column not in customers:
        raise DataError(f"{source}: label column '{column}' missing from the customers table")
    lab = labels(customers[column], "boolean" if positive is None else "categorical")
    pos = ["True"] if positive is None else [str(p) for p in positive]
    y = np.where(np.isin(lab, pos), 1.0, 0.0)
    y[lab == NULL_LABEL] = np.nan
    return y


def mean_ci(values: np.ndarray, z: float) -> tuple[float, float, float, int]:
    """Mean of the finite values with its normal-approximation interval: (mean, lo, hi, n)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) < 2:
        return (float(v[0]) if len(v) else np.nan), np.nan, np.nan, len(v)
    m, se = float(v.mean()), float(v.std(ddof=1) / np.sqrt(len(v)))
    return m, m - z * se, m + z * se, len(v)
