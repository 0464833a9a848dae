"""Distance-based privacy (../shared/DESIGN.md §4): DCR share, DCR percentiles, exact copies.

DCR share: fraction of synthetic rows whose nearest real row is in train rather than in the
holdout (train and holdout subsampled to the same size, ties split half and half). A generator
that does not memorise sits at 0.5; one that copies training rows goes to 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from acacia.evaluation.features import Embedding

EXACT = 1e-6


def dcr_metrics(train: pd.DataFrame, holdout: pd.DataFrame, syn: pd.DataFrame, kinds: dict[str, str],
                seed: int = 0, max_rows: int | None = None) -> tuple[dict[str, float], pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = min(len(train), len(holdout), max_rows or len(train))
    tr = train.iloc[rng.choice(len(train), n, replace=False)]
    ho = holdout.iloc[rng.choice(len(holdout), n, replace=False)]
    sy = syn.iloc[rng.choice(len(syn), min(len(syn), n), replace=False)]
    emb = Embedding().fit(tr, kinds)
    e_tr, e_ho, e_sy = emb.transform(tr), emb.transform(ho), emb.transform(sy)
    nn_tr = NearestNeighbors(n_neighbors=1).fit(e_tr)
    d_sy_tr = nn_tr.kneighbors(e_sy)[0][:, 0]
    d_sy_ho = NearestNeighbors(n_neighbors=1).fit(e_ho).kneighbors(e_sy)[0][:, 0]
    d_ho_tr = nn_tr.kneighbors(e_ho)[0][:, 0]
    closer = (d_sy_tr < d_sy_ho).astype(float) + 0.5 * (d_sy_tr == d_sy_ho)
    metrics = {
        "dcr_share": float(closer.mean()),
        "dcr_p5_syn_train": float(np.percentile(d_sy_tr, 5)),
        "dcr_p5_holdout_train": float(np.percentile(d_ho_tr, 5)),
        "exact_match_rate": float((d_sy_tr < EXACT).mean()),
        "exact_match_rate_holdout": float((d_ho_tr < EXACT).mean()),
    }
    dist = pd.DataFrame({"source": np.r_[np.repeat("synthetic", len(d_sy_tr)), np.repeat("holdout", len(d_ho_tr))],
                         "distance": np.r_[d_sy_tr, d_ho_tr].round(5)})
    return metrics, dist
