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
    n = min(len(train), len(holdout), max_rows); synthetic to min(len(syn), n).
    """
    check_columns(train, kinds, "train")
    check_columns(holdout, kinds, "holdout")
    check_columns(syn, kinds, "synthetic")
    rng = np.random.default_rng(seed)
    n = min(len(train), len(holdout), max_rows or max(len(train), len(holdout)))
    tr, ho = _pick(train, n, rng), _pick(holdout, n, rng)
    sy = _pick(syn, n, rng)
    nan = float("nan")
    if n == 0 or len(sy) == 0:
        metrics = dict.fromkeys(
            ("dcr_share", "dcr_p5_syn_train", "dcr_p5_holdout_train", "exact_match_rate",
             "exact_match_rate_holdout"),
            nan,
        )
        return metrics, pd.DataFrame({"source": pd.Series(dtype=str), "distance": pd.Series(dtype=float)})

    emb = Embedding().fit(tr, kinds)
    e_tr, e_ho, e_sy = emb.transform(tr), emb.transform(ho), emb.transform(sy)
    d_sy_tr = _nearest(e_tr, e_sy)
    d_sy_ho = _nearest(e_ho, e_sy)
    d_ho_tr = _nearest(e_tr, e_ho)

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
    }
    dist = pd.DataFrame(
        {
            "source": np.r_[np.repeat("synthetic", len(d_sy_tr)), np.repeat("holdout", len(d_ho_tr))],
            "distance": np.r_[d_sy_tr, d_ho_tr].round(6),
        }
    )
    return metrics, dist
