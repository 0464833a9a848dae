"""Distance-based privacy (../shared/DESIGN.md §4): DCR share, DCR percentiles, exact copies.

All distances are Euclidean in the :class:`Embedding` fitted on the (subsampled) train rows, so a
unit is about one robust standard deviation of a numeric column, and a differing category adds
√2 (two one-hot cells).

- ``dcr_share``: fraction of synthetic rows whose nearest real row is in train rather than in the
  holdout, train and holdout subsampled to the same size (ties count half). A generator that does
  not memorise sits near 0.5; one that copies training rows goes to 1.
- ``dcr_p5_syn_train``: 5th percentile of the synthetic → train distances, read against
  ``dcr_p5_holdout_train``, the same for unseen real rows (holdout → train): a synthetic p5 well
  below the holdout's means some synthetic rows hug training rows.
- ``exact_match_rate``: share of synthetic rows at distance ≈ 0 (< 1e-6) from a train row;
  ``exact_match_rate_holdout`` is the same for holdout rows (real duplicates happen, e.g. customers
  with identical contracts and no series).
- ``nndr_p5_syn_train`` / ``nndr_p5_holdout_train``: 5th percentile of the nearest-neighbour
  distance ratio (closest / second-closest train row); near 0 means "one training row stands out
  as the source", which a copy or a near-copy shows and a fresh customer does not.

Membership inference (:func:`membership_inference`): an attacker holding the synthetic data
scores candidate customers, half training members and half unseen customers, and the AUC of his
score says how well he tells them apart (0.5 = not at all):

- ``mia_distance_auc``: score = −distance to the closest synthetic row;
- ``mia_density_auc``: DOMIAS-style (van Breugel et al. 2023) density ratio
  p_synthetic(x) / p_reference(x), each density a k-NN estimate (first synthetic neighbour,
  k-th reference neighbour; the dimension factor is common and keeps the ranking), the
  reference being real customers that are neither members nor candidates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors
from threadpoolctl import threadpool_limits

from acacia.evaluation.features import Embedding, check_columns

# float32 embeddings, distances in float64: identical rows come out below 1e-6, and any real
# difference (one category, a fraction of a unit) is far above it.
EXACT_TOL = 1e-6


def _pick(df: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    if len(df) <= n:
        return df.reset_index(drop=True)
    return df.iloc[np.sort(rng.choice(len(df), n, replace=False))].reset_index(drop=True)


def _nearest(reference: np.ndarray, query: np.ndarray) -> np.ndarray:
    nn = NearestNeighbors(n_neighbors=1, algorithm="auto", metric="euclidean").fit(
        reference.astype(np.float64)
    )
    # Single-threaded BLAS/OpenMP: see detection.py (thread oversubscription on small machines).
    with threadpool_limits(1):
        return nn.kneighbors(query.astype(np.float64), return_distance=True)[0][:, 0]


def _kth(reference: np.ndarray, query: np.ndarray, k: int) -> np.ndarray:
    k = max(1, min(k, len(reference)))
    nn = NearestNeighbors(n_neighbors=k, metric="euclidean").fit(reference.astype(np.float64))
    with threadpool_limits(1):
        return nn.kneighbors(query.astype(np.float64), return_distance=True)[0]


def _nearest_two(reference: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance to the closest row, and closest / second-closest (1 when there is no second)."""
    d = _kth(reference, query, 2)
    if d.shape[1] < 2:
        return d[:, 0], np.ones(len(d))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(d[:, 1] > 0, d[:, 0] / d[:, 1], 1.0)
    return d[:, 0], ratio


def membership_inference(
    train: pd.DataFrame,
    unseen: pd.DataFrame,
    syn: pd.DataFrame,
    kinds: dict[str, str],
    seed: int = 0,
    max_rows: int | None = None,
    k: int = 5,
) -> dict[str, float]:
    """AUCs of a distance attack and a density-ratio attack (see the module docstring).

    ``unseen`` real customers are split in two halves: non-member candidates and the attacker's
    reference sample; members are as many training customers.
    """
    from sklearn.metrics import roc_auc_score

    nan = {"mia_distance_auc": float("nan"), "mia_density_auc": float("nan")}
    rng = np.random.default_rng(seed + 1)
    half = len(unseen) // 2
    n = min(half, len(train), max_rows or half)
    if n < 5 or len(syn) < 2:
        return nan
    order = rng.permutation(len(unseen))
    non = unseen.iloc[order[:n]].reset_index(drop=True)
    ref = unseen.iloc[order[half : half + max(n, k + 1)]].reset_index(drop=True)
    mem = _pick(train, n, rng)
    sy = syn.reset_index(drop=True)  # the attacker holds the whole synthetic release
    emb = Embedding().fit(mem, kinds)
    cand = emb.transform(pd.concat([mem, non], ignore_index=True))
    e_sy, e_ref = emb.transform(sy), emb.transform(ref)
    y = np.r_[np.ones(n), np.zeros(n)]
    d_syn = _kth(e_sy, cand, 1)
    d_ref = _kth(e_ref, cand, k)
    eps = 1e-9
    # k-NN densities ∝ k / (N·d_k^D): the ratio's ranking is D·(log d_ref,k − log d_syn,1) plus a
    # constant. The synthetic side uses its first neighbour, so the density spike a memorised
    # row leaves is seen; the reference side averages over k for a steadier estimate.
    density = np.log(d_ref[:, -1] + eps) - np.log(d_syn[:, 0] + eps)
    return {
        "mia_distance_auc": float(roc_auc_score(y, -d_syn[:, 0])),
        "mia_density_auc": float(roc_auc_score(y, density)),
    }


def dcr_metrics(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    syn: pd.DataFrame,
    kinds: dict[str, str],
    seed: int = 0,
    max_rows: int | None = None,
) -> tuple[dict[str, float], pd.DataFrame]:
    """Flat metrics, and the distances for histograms.

    The second value is a long table ``source`` ∈ {synthetic, holdout}, ``distance`` (to the
    nearest train row), the plot data of the DCR figure. Sizes: train and holdout are cut to
    n = min(len(train), len(holdout)); the synthetic rows and the holdout rows measured
    against train to min(n, max_rows) (the cap bounds the neighbour queries, not the
    reference sets).
    """
    check_columns(train, kinds, "train")
    check_columns(holdout, kinds, "holdout")
    check_columns(syn, kinds, "synthetic")
    rng = np.random.default_rng(seed)
    # Train and holdout are never capped (only equalised): a synthetic row copied from a
    # training customer left out of a train subsample would look like a fresh one. The cap
    # applies to the query rows (synthetic, and holdout rows measured against train).
    n = min(len(train), len(holdout))
    tr, ho = _pick(train, n, rng), _pick(holdout, n, rng)
    q = min(n, max_rows or n)
    sy = _pick(syn, q, rng)
    nan = float("nan")
    if n == 0 or len(sy) == 0:
        metrics = dict.fromkeys(
            ("dcr_share", "dcr_p5_syn_train", "dcr_p5_holdout_train", "exact_match_rate",
             "exact_match_rate_holdout", "nndr_p5_syn_train", "nndr_p5_holdout_train"),
            nan,
        )
        return metrics, pd.DataFrame({"source": pd.Series(dtype=str), "distance": pd.Series(dtype=float)})

    emb = Embedding().fit(tr, kinds)
    e_tr, e_ho, e_sy = emb.transform(tr), emb.transform(ho), emb.transform(sy)
    d_sy_tr, nndr_sy = _nearest_two(e_tr, e_sy)
    d_sy_ho = _nearest(e_ho, e_sy)
    d_ho_tr, nndr_ho = _nearest_two(e_tr, e_ho[:q])

    # Ties within the exact-match tolerance count half: a synthetic row that copies a customer
    # present in both splits (real duplicates) is no evidence either way.
    tie = np.abs(d_sy_tr - d_sy_ho) < EXACT_TOL
    closer = np.where(tie, 0.5, (d_sy_tr < d_sy_ho).astype(float))
    metrics = {
        "dcr_share": float(closer.mean()),
        "dcr_p5_syn_train": float(np.percentile(d_sy_tr, 5)),
        "dcr_p5_holdout_train": float(np.percentile(d_ho_tr, 5)),
        "exact_match_rate": float((d_sy_tr < EXACT_TOL).mean()),
        "exact_match_rate_holdout": float((d_ho_tr < EXACT_TOL).mean()),
        "nndr_p5_syn_train": float(np.percentile(nndr_sy, 5)),
        "nndr_p5_holdout_train": float(np.percentile(nndr_ho, 5)),
    }
    dist = pd.DataFrame(
        {
            "source": np.r_[np.repeat("synthetic", len(d_sy_tr)), np.repeat("holdout", len(d_ho_tr))],
            "distance": np.r_[d_sy_tr, d_ho_tr].round(6),
        }
    )
    return metrics, dist
