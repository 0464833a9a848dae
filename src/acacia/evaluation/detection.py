"""Detection (C2ST): can a classifier tell real rows from synthetic ones?

Score = 1 − (2·max(AUC, 0.5) − 1): 1 when the classifier does no better than chance, 0 when it
separates them perfectly. Classes are balanced by subsampling the larger side.
"""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from acacia.evaluation.features import Embedding, as_labels, as_numbers


def ordinal_frame(df: pd.DataFrame, kinds: dict[str, str], ref: pd.DataFrame) -> pd.DataFrame:
    """Numbers as numbers (NaN kept: LightGBM handles missing), categories as codes of ``ref``'s levels."""
    out = {}
    for c, k in kinds.items():
        if k in ("categorical", "boolean"):
            levels = np.unique(np.r_[as_labels(ref[c]), as_labels(df[c])])
            out[c] = pd.Categorical(as_labels(df[c]), categories=levels)
        else:
            out[c] = as_numbers(df[c], k)
    return pd.DataFrame(out)


def _balanced(real: pd.DataFrame, syn: pd.DataFrame, rng: np.random.Generator, max_rows: int | None):
    n = min(len(real), len(syn), max_rows or len(real))
    r = real.iloc[rng.choice(len(real), n, replace=False)].reset_index(drop=True)
    s = syn.iloc[rng.choice(len(syn), n, replace=False)].reset_index(drop=True)
    return pd.concat([r, s], ignore_index=True), np.r_[np.zeros(n), np.ones(n)]


def detection_score(real: pd.DataFrame, syn: pd.DataFrame, kinds: dict[str, str], model: str = "logistic",
                    folds: int = 5, seed: int = 0, max_rows: int | None = None,
                    lightgbm: dict[str, Any] | None = None) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    data, y = _balanced(real, syn, rng, max_rows)
    if model == "logistic":
        x = Embedding().fit(real, kinds).transform(data)
    elif model == "lightgbm":
        x = ordinal_frame(data, kinds, real)
    else:
        raise ValueError(f"detection model '{model}' unknown, expected 'logistic' or 'lightgbm'")
    pred = np.zeros(len(y))
    for tr, te in StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y):
        if model == "logistic":
            clf = LogisticRegression(max_iter=500)
            clf.fit(x[tr], y[tr])
            pred[te] = clf.predict_proba(x[te])[:, 1]
        else:
            clf = lgb.LGBMClassifier(random_state=seed, n_jobs=2, verbose=-1, **(lightgbm or {}))
            clf.fit(x.iloc[tr], y[tr])
            pred[te] = clf.predict_proba(x.iloc[te])[:, 1]
    auc = float(roc_auc_score(y, pred))
    return {"auc": auc, "score": 1 - (2 * max(auc, 0.5) - 1)}
