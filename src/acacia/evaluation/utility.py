"""Utility: train on synthetic, test on real (TSTR) against train on real, test on real (TRTR).

LightGBM on every column but the target; rows with a null target are dropped. For classes, AUC
(macro one-vs-rest when more than two) and macro F1; for numbers, RMSE and R². A class the
synthetic data never produced gets probability 0, so missing classes cost AUC instead of crashing.
"""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import f1_score, mean_squared_error, r2_score, roc_auc_score

from acacia.evaluation.detection import ordinal_frame
from acacia.evaluation.features import as_labels, as_numbers


def _fit_predict(train: pd.DataFrame, test: pd.DataFrame, target: str, kinds: dict[str, str],
                 classes: np.ndarray | None, seed: int, params: dict[str, Any]) -> np.ndarray:
    feats = {c: k for c, k in kinds.items() if c != target}
    x_tr, x_te = ordinal_frame(train, feats, test), ordinal_frame(test, feats, train)
    for c in x_tr.columns:
        if isinstance(x_tr[c].dtype, pd.CategoricalDtype):
            cats = x_tr[c].cat.categories.union(x_te[c].cat.categories)
            x_tr[c] = x_tr[c].cat.set_categories(cats)
            x_te[c] = x_te[c].cat.set_categories(cats)
    if classes is None:
        model = lgb.LGBMRegressor(random_state=seed, n_jobs=2, verbose=-1, **params)
        model.fit(x_tr, as_numbers(train[target], kinds[target]))
        return model.predict(x_te)
    y = as_labels(train[target])
    present = np.unique(y)
    proba = np.zeros((len(test), len(classes)))
    if len(present) == 1:
        proba[:, np.searchsorted(classes, present[0])] = 1.0
        return proba
    model = lgb.LGBMClassifier(random_state=seed, n_jobs=2, verbose=-1, **params)
    model.fit(x_tr, y)
    proba[:, np.searchsorted(classes, model.classes_)] = model.predict_proba(x_te)
    return proba


def _scores(y: np.ndarray, pred: np.ndarray, classes: np.ndarray | None) -> dict[str, float]:
    if classes is None:
        return {"rmse": float(np.sqrt(mean_squared_error(y, pred))), "r2": float(r2_score(y, pred))}
    label = classes[pred.argmax(axis=1)]
    f1 = float(f1_score(y, label, average="macro"))
    if len(classes) == 2:
        auc = roc_auc_score(y == classes[1], pred[:, 1])
    else:
        p = pred / np.clip(pred.sum(axis=1, keepdims=True), 1e-12, None)
        auc = roc_auc_score(y, p, multi_class="ovr", average="macro", labels=classes)
    return {"auc": float(auc), "f1": f1}


def tstr(syn: pd.DataFrame, train: pd.DataFrame, test: pd.DataFrame, target: str, kinds: dict[str, str],
         seed: int = 0, params: dict[str, Any] | None = None) -> dict[str, float]:
    params = params or {}
    keep = lambda df: df[df[target].notna()].reset_index(drop=True)  # noqa: E731
    syn, train, test = keep(syn), keep(train), keep(test)
    classification = kinds[target] in ("categorical", "boolean")
    classes = np.unique(as_labels(test[target])) if classification else None
    y_test = as_labels(test[target]) if classification else as_numbers(test[target], kinds[target])
    out: dict[str, float] = {}
    for name, source in (("tstr", syn), ("trtr", train)):
        if len(source) == 0:
            continue
        pred = _fit_predict(source, test, target, kinds, classes, seed, params)
        out.update({f"{name}_{k}": v for k, v in _scores(y_test, pred, classes).items()})
    main = "auc" if classification else "r2"
    if f"tstr_{main}" in out and out.get(f"trtr_{main}"):
        out["tstr_ratio"] = out[f"tstr_{main}"] / out[f"trtr_{main}"]
    return out
