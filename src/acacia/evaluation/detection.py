"""Detection (C2ST): can a classifier tell real rows from synthetic ones?

Score = 1 − (2·max(AUC, 0.5) − 1) (../shared/DESIGN.md §4): 1 when the classifier does no better
than chance, 0 when it separates the two perfectly. An AUC below 0.5 is chance plus noise (or a
classifier fooled by exact copies, which the privacy metrics catch), hence the max.

Two classifiers, as in the literature:
- ``logistic``: logistic regression on the standardised one-hot :class:`Embedding` (fitted on the
  real rows), the detector of the TabSyn/TabDiff tables; it only sees marginal/linear differences.
- ``lightgbm``: gradient-boosted trees on an ordinal encoding with NaN kept (trees route missing
  values themselves), much stronger: it finds interactions a generator failed to learn.

The classes are balanced by subsampling the larger side (AUC is insensitive to imbalance, but a
balanced design makes the folds' training sets comparable across generators). The AUC is the
mean of the out-of-fold AUCs of a stratified k-fold; the score is computed from that mean.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from acacia.evaluation.features import Embedding, check_columns, ordinal_frame

DETECTORS = ("logistic", "lightgbm")
# n_jobs=1: on the 2-core machines this runs on, LightGBM's OpenMP threads spin-wait against any
# other busy process (DVC running stages in parallel, the test suite), and a fit with 2 threads
# under load took many times as long as one with 1. The data here is small enough that one
# thread is fast anyway; params may override it.
LIGHTGBM_DEFAULTS: dict[str, Any] = {
    "n_estimators": 100,
    "num_leaves": 31,
    "learning_rate": 0.1,
    "n_jobs": 1,
    "verbose": -1,
}


def lightgbm_params(seed: int, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults, then the seed, then the caller's overrides."""
    return {**LIGHTGBM_DEFAULTS, "random_state": seed, **(params or {})}


def detection_auc_to_score(auc: float) -> float:
    return float(1.0 - (2.0 * max(auc, 0.5) - 1.0))


def balanced_sample(
    real: pd.DataFrame, syn: pd.DataFrame, seed: int = 0, max_rows: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both sides subsampled (seeded, without replacement) to min(len(real), len(syn), max_rows)."""
    rng = np.random.default_rng(seed)
    n = min(len(real), len(syn), max_rows or max(len(real), len(syn)))

    def pick(df: pd.DataFrame) -> pd.DataFrame:
        idx = np.sort(rng.choice(len(df), n, replace=False)) if len(df) > n else np.arange(len(df))
        return df.iloc[idx].reset_index(drop=True)

    return pick(real), pick(syn)


def lightgbm_classifier(seed: int, params: dict[str, Any] | None = None):
    import lightgbm as lgb

    return lgb.LGBMClassifier(**lightgbm_params(seed, params))


def detection_score(
    real: pd.DataFrame,
    syn: pd.DataFrame,
    kinds: dict[str, str],
    model: str = "logistic",
    folds: int = 5,
    seed: int = 0,
    max_rows: int | None = None,
    lightgbm: dict[str, Any] | None = None,
) -> dict[str, float]:
    """Cross-validated real-vs-synthetic classifier.

    Returns ``auc`` (mean out-of-fold AUC), ``auc_std`` (across folds), ``score`` (from the mean
    AUC) and ``n`` (rows per class). ``lightgbm`` overrides :data:`LIGHTGBM_DEFAULTS`.
    """
    if model not in DETECTORS:
        raise ValueError(f"detection model '{model}' unknown, expected one of {list(DETECTORS)}")
    check_columns(real, kinds, "real")
    check_columns(syn, kinds, "synthetic")
    r, s = balanced_sample(real, syn, seed=seed, max_rows=max_rows)
    n = len(r)
    folds = int(min(folds, n))
    if n < 2 or folds < 2:
        return {"auc": float("nan"), "auc_std": float("nan"), "score": float("nan"), "n": float(n)}
    y = np.r_[np.zeros(n), np.ones(n)]
    data = pd.concat([r, s], ignore_index=True)
    if model == "logistic":
        # float64: lbfgs would otherwise cast the float32 matrix at every iteration.
        x: Any = Embedding().fit(r, kinds).transform(data).astype(np.float64)
    else:
        x = ordinal_frame([data], kinds)[0].to_numpy(dtype=np.float32)

    aucs = []
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for tr, te in cv.split(np.zeros(len(y)), y):
        if model == "logistic":
            clf: Any = LogisticRegression(max_iter=1000)
        else:
            clf = lightgbm_classifier(seed, lightgbm)
        # One BLAS thread: the matrices are small, and OpenBLAS threads spinning against
        # LightGBM or other jobs on a 2-core machine made each fit many times slower.
        with warnings.catch_warnings(), threadpool_limits(1, user_api="blas"):
            # An unconverged logistic fit is still a valid (weaker) detector.
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.filterwarnings("ignore", message=".*feature names.*")
            clf.fit(x[tr], y[tr])
            pred = clf.predict_proba(x[te])[:, 1]
        aucs.append(roc_auc_score(y[te], pred))
    auc = float(np.mean(aucs))
    return {
        "auc": auc,
        "auc_std": float(np.std(aucs)),
        "score": detection_auc_to_score(auc),
        "n": float(n),
    }
