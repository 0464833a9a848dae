"""How much the meta-metric and the ranking move when only the seeds change.

The benchmark's seeds drive model initialisation, sampling and the evaluation's subsamples and
folds; a ranking worth acting on must not depend on them. :func:`seed_spread` summarises, per
model and score (``overall`` and the pillars), the mean, the sample standard deviation and the
range over seeds; :func:`ranking_changes` says whether the order of the models changes, with the
smallest Kendall τ between any seed's ranking and the ranking of the mean ``overall``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import kendalltau

from acacia.errors import DataError


def _check(table: pd.DataFrame, scores: Sequence[str]) -> None:
    missing = [c for c in ("seed", "model", *scores) if c not in table.columns]
    if missing:
        raise DataError(f"seed table: missing columns {missing}")
    dup = table.duplicated(["seed", "model"])
    if dup.any():
        seed, model = table.loc[dup, ["seed", "model"]].iloc[0]
        raise DataError(f"seed table: more than one row for (seed, model) = ({seed}, '{model}')")


def seed_spread(table: pd.DataFrame, scores: Sequence[str] = ("overall",)) -> pd.DataFrame:
    """One row per model: ``<score>.mean``, ``.std`` (ddof 1; 0 with a single seed), ``.min``,
    ``.max``, ``.range`` for every score, ``n_seeds``, sorted by mean ``scores[0]`` (best first)."""
    scores = list(scores)
    _check(table, scores)
    g = table.groupby("model", sort=False)
    out = pd.DataFrame({"n_seeds": g["seed"].nunique()})
    for s in scores:
        v = g[s]
        out[f"{s}.mean"] = v.mean()
        out[f"{s}.std"] = v.std(ddof=1).fillna(0.0)
        out[f"{s}.min"], out[f"{s}.max"] = v.min(), v.max()
        out[f"{s}.range"] = out[f"{s}.max"] - out[f"{s}.min"]
    return out.sort_values(f"{scores[0]}.mean", ascending=False).reset_index()


def ranks_per_seed(table: pd.DataFrame, score: str = "overall") -> pd.DataFrame:
    """Models × seeds: rank of each model within each seed (1 = best; ties share the lower rank)."""
    _check(table, [score])
    wide = table.pivot(index="model", columns="seed", values=score)
    return wide.rank(ascending=False, method="min").astype(int)


def ranking_changes(table: pd.DataFrame, score: str = "overall") -> dict[str, object]:
    """``orders`` (per seed, the models best first), ``changes`` (whether any seed's order differs
    from the mean's), ``min_kendall_tau`` (1 = the same order) and ``rank_range`` (per model,
    max − min rank over seeds)."""
    ranks = ranks_per_seed(table, score)
    mean_order = list(table.groupby("model")[score].mean().sort_values(ascending=False).index)
    orders = {int(s): list(ranks[s].sort_values(kind="stable").index) for s in ranks.columns}
    mean_rank = pd.Series(np.arange(1, len(mean_order) + 1), index=mean_order).reindex(ranks.index)
    taus = []
    for s in ranks.columns:
        if len(ranks) < 2:
            taus.append(1.0)
            continue
        tau = kendalltau(mean_rank.to_numpy(), ranks[s].to_numpy()).statistic
        taus.append(1.0 if np.isnan(tau) else float(tau))
    return {
        "orders": orders,
        "mean_order": mean_order,
        "changes": any(o != mean_order for o in orders.values()),
        "min_kendall_tau": float(min(taus)),
        "rank_range": (ranks.max(axis=1) - ranks.min(axis=1)).reindex(mean_order).to_dict(),
    }
