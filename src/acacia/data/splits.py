"""Train / holdout / test splits by customer: a customer's rows never sit in two splits.

Privacy metrics compare synthetic data with train against holdout (DESIGN §4), so a customer whose
static row were in train and part of whose series were in holdout would make the holdout
reference look like a leak. Splitting the customer ids, and taking each customer's consumption
with them, rules that out.

Splits depend only on the seed and on the set of customer ids, not on the order of rows in the
file: ids are put in a canonical (sorted) order before shuffling, so re-exporting the same
portfolio in another order gives the same splits.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np
import pandas as pd

from acacia.data.portfolio import Portfolio
from acacia.errors import DataError, ParamsError

SPLIT_NAMES = ("train", "holdout", "test")
STRATIFIABLE = ("categorical", "boolean")


def check_fractions(fractions: dict[str, float]) -> dict[str, float]:
    """The train/holdout/test shares as floats, or ParamsError naming ``prepare.split``."""
    if not isinstance(fractions, dict) or set(fractions) != set(SPLIT_NAMES):
        got = sorted(fractions) if isinstance(fractions, dict) else fractions
        raise ParamsError(f"prepare.split: expected keys {list(SPLIT_NAMES)}, got {got}")
    for name, v in fractions.items():
        if isinstance(v, bool) or not isinstance(v, Real) or not 0 < v < 1:
            raise ParamsError(f"prepare.split.{name}: expected a share in (0, 1), got {v!r}")
    total = math.fsum(fractions.values())
    if abs(total - 1) > 1e-6:
        raise ParamsError(f"prepare.split: shares must sum to 1, got {total:.6g} ({fractions})")
    return {name: float(fractions[name]) for name in SPLIT_NAMES}


def split_portfolio(
    p: Portfolio, fractions: dict[str, float], seed: int, stratify: str | None = None
) -> dict[str, Portfolio]:
    """{train, holdout, test} portfolios holding disjoint customers, sized by `fractions`.

    With `stratify` (a categorical or boolean column), each split keeps the column's shares
    to within about one customer per category; null is a category of its own.
    """
    shares = check_fractions(fractions)
    ids = _shuffled_ids(p, seed, stratify)
    n = len(ids)
    # Cumulative cuts, so the sizes always add up to n whatever the rounding.
    cuts = np.rint(np.cumsum([shares[s] for s in SPLIT_NAMES]) * n).astype(int)
    bounds = np.r_[0, cuts[:-1], n]
    sizes = np.diff(bounds)
    if (sizes == 0).any():
        empty = [s for s, k in zip(SPLIT_NAMES, sizes, strict=True) if k == 0]
        raise DataError(
            f"a portfolio of {n} customers is too small for prepare.split {shares}: "
            f"{empty} would be empty"
        )
    return {name: p.subset(ids[bounds[i] : bounds[i + 1]]) for i, name in enumerate(SPLIT_NAMES)}


def split_with_fixed_test(
    train_pool: Portfolio,
    test: Portfolio,
    holdout_fraction: float,
    seed: int,
    stratify: str | None = None,
) -> dict[str, Portfolio]:
    """Keep an official test split (Adult, as in the published benchmarks) and carve the holdout
    out of the given training pool; `holdout_fraction` is the holdout's share of that pool."""
    if isinstance(holdout_fraction, bool) or not isinstance(holdout_fraction, Real):
        raise ParamsError(
            f"prepare.split: holdout share must be a number, got {holdout_fraction!r}"
        )
    if not 0 < holdout_fraction < 1:
        raise ParamsError(
            f"prepare.split: the holdout share of train + holdout must be in (0, 1), "
            f"got {holdout_fraction}"
        )
    if train_pool.schema.names != test.schema.names:
        raise DataError("the training pool and the test split have different columns")
    shared = set(train_pool.ids) & set(test.ids)
    if shared:
        raise DataError(
            f"{len(shared)} customers are in both the training pool and the test split, "
            f"e.g. '{min(shared)}'"
        )
    ids = _shuffled_ids(train_pool, seed, stratify)
    cut = int(round((1 - holdout_fraction) * len(ids)))
    if cut == 0 or cut == len(ids):
        raise DataError(
            f"a training pool of {len(ids)} customers is too small for a holdout share of "
            f"{holdout_fraction}"
        )
    return {
        "train": train_pool.subset(ids[:cut]),
        "holdout": train_pool.subset(ids[cut:]),
        "test": test,
    }


def _shuffled_ids(p: Portfolio, seed: int, stratify: str | None) -> np.ndarray:
    """The customer ids in a seeded random order; cutting it anywhere gives a random split
    (stratified by `stratify` when given)."""
    ids = p.ids.to_numpy(dtype=object)
    if pd.isna(ids).any():
        raise DataError(f"{p.schema.id_column} has empty values: cannot split by customer")
    canon = np.argsort(ids.astype(str), kind="stable")
    ids = ids[canon]
    rng = np.random.default_rng(seed)
    if stratify is None:
        return ids[rng.permutation(len(ids))]
    # Codes numbered in canonical order, so the draws below do not depend on row order either.
    keys = pd.factorize(_strata(p, stratify)[canon])[0]
    # Spread each stratum evenly over [0, 1): its j-th member (in random order) of n_k gets rank
    # (j + u_k) / n_k. Sorting all ranks interleaves the strata, so any prefix holds each
    # stratum's share to within about one customer, and the split sizes stay exact.
    rank = np.empty(len(ids))
    for k in np.unique(keys):
        members = np.flatnonzero(keys == k)
        rank[rng.permutation(members)] = (np.arange(len(members)) + rng.random()) / len(members)
    return ids[np.argsort(rank, kind="stable")]


def _strata(p: Portfolio, column: str) -> np.ndarray:
    try:
        kind = p.schema[column].kind
    except KeyError:
        raise ParamsError(
            f"prepare.stratify: unknown column '{column}', expected one of "
            f"{p.schema.of_kind(*STRATIFIABLE)} or null"
        ) from None
    if kind not in STRATIFIABLE:
        raise ParamsError(
            f"prepare.stratify: column '{column}' is {kind}; expected a categorical or boolean "
            f"column such as {p.schema.of_kind(*STRATIFIABLE)[:5]}"
        )
    # Integer codes, with null as a stratum of its own (it may well differ from the rest).
    codes, _ = pd.factorize(p.customers[column], use_na_sentinel=False)
    return codes
