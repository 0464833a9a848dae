"""Train / holdout / test splits by customer: a customer's rows never sit in two splits."""

from __future__ import annotations

import numpy as np
import pandas as pd

from acacia.data.portfolio import Portfolio
from acacia.errors import ParamsError

SPLIT_NAMES = ("train", "holdout", "test")


def _check_fractions(fractions: dict[str, float]) -> None:
    if set(fractions) != set(SPLIT_NAMES):
        raise ParamsError(f"prepare.split: expected keys {list(SPLIT_NAMES)}, got {sorted(fractions)}")
    if any(not isinstance(v, int | float) or v <= 0 for v in fractions.values()):
        raise ParamsError(f"prepare.split: fractions must be positive numbers, got {fractions}")
    if abs(sum(fractions.values()) - 1) > 1e-6:
        raise ParamsError(f"prepare.split: fractions must sum to 1, got {sum(fractions.values()):.4f}")


def split_portfolio(p: Portfolio, fractions: dict[str, float], seed: int,
                    stratify: str | None = None) -> dict[str, Portfolio]:
    _check_fractions(fractions)
    rng = np.random.default_rng(seed)
    n = len(p)
    if stratify is not None:
        if stratify not in p.customers:
            raise ParamsError(f"prepare.stratify: unknown column '{stratify}'")
        # Shuffle within each stratum and interleave, so every split gets each stratum's share.
        key = p.customers[stratify].astype(object).where(p.customers[stratify].notna(), "__null__")
        order = np.concatenate([rng.permutation(np.flatnonzero(key.to_numpy() == k)) for k in pd.unique(key)])
        rank = np.empty(n)
        for k in pd.unique(key):
            idx = order[np.isin(order, np.flatnonzero(key.to_numpy() == k))]
            rank[idx] = (np.arange(len(idx)) + rng.random()) / len(idx)
        order = np.argsort(rank, kind="stable")
    else:
        order = rng.permutation(n)
    cuts = np.round(np.cumsum([fractions[s] for s in SPLIT_NAMES]) * n).astype(int)
    bounds = np.r_[0, cuts]
    ids = p.ids.to_numpy()
    return {name: p.subset(ids[np.sort(order[bounds[i]:bounds[i + 1]])]) for i, name in enumerate(SPLIT_NAMES)}


def split_with_fixed_test(train_pool: Portfolio, test: Portfolio, holdout_fraction: float,
                          seed: int) -> dict[str, Portfolio]:
    """Keep an official test split (Adult); carve the holdout out of the training pool."""
    if not 0 < holdout_fraction < 1:
        raise ParamsError(f"prepare.split: the holdout share of train+holdout must be in (0, 1), got {holdout_fraction}")
    order = np.random.default_rng(seed).permutation(len(train_pool))
    cut = int(round((1 - holdout_fraction) * len(train_pool)))
    ids = train_pool.ids.to_numpy()
    return {"train": train_pool.subset(ids[np.sort(order[:cut])]),
            "holdout": train_pool.subset(ids[np.sort(order[cut:])]),
            "test": test}
