"""Utility: train on synthetic, test on real (TSTR) against train on real, test on real (TRTR).

For one target column of the analysis table, a LightGBM model is trained once on the synthetic
rows and once on the real train rows, and both are scored on the real test split
(../shared/DESIGN.md §4). Choices:

- features: every column of the analysis table but the target (other targets included: they are
  ordinary columns of the customers table); labels as pandas categoricals sharing one category
  list across the three frames (LightGBM's native categorical splits), numbers and dates (days)
  as floats with NaN kept.
- rows whose target is null are dropped from every frame.
- classification (categorical / boolean target): AUC, macro one-vs-rest over the classes present
  in the test split (for two classes this equals the usual binary AUC), and macro F1. The
  probability matrix always spans the classes of train ∪ test; a class the synthetic data never
  produced gets probability 0, so its one-vs-rest AUC is 0.5 (no information) and its F1 is 0:
  a generator that drops a class pays for it instead of crashing the stage. A synthetic set with
  a single class predicts that class everywhere.
- regression (numerical / integer / date target): RMSE and R².
- ``tstr_ratio``: tstr_auc / trtr_auc for classes, trtr_rmse / tstr_rmse for numbers (1 = as
  useful as real data, lower is worse, both oriented the same way).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score, mean_squared_error, r2_score, roc_auc_score

from acacia.errors import DataError
from acacia.evaluation.detection import lightgbm_params
from acacia.evaluation.features import (
    LABEL_KINDS,
    NULL_LABEL,
    check_columns,
    labels,
    numeric_values,
)


def _feature_frames(frames: list[pd.DataFrame], kinds: dict[str, str]) -> list[pd.DataFrame]:
    out = [pd.DataFrame(index=range(len(f))) for f in frames]
    for c, k in kinds.items():
        if k in LABEL_KINDS:
            labs = [labels(f[c], k) for f in frames]
            cats = pd.unique(np.concatenate(labs))
            cats = cats[cats != NULL_LABEL]
            for o, lab in zip(out, labs, strict=True):
                # Null stays NaN (not a category): LightGBM sends missing values down its own side.
                o[c] = pd.Categorical(np.where(lab == NULL_LABEL, None, lab), categories=cats)
        else:
            for o, f in zip(out, frames, strict=True):
                o[c] = numeric_values(f[c], k)
    return out


def _class_scores(y: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> dict[str, float]:
    present = [i for i, c in enumerate(classes) if 0 < (y == c).sum() < len(y)]
    aucs = [roc_auc_score(y == classes[i], proba[:, i]) for i in present]
    pred = classes[proba.argmax(axis=1)]
    test_classes = [c for c in classes if (y == c).any()]
    f1 = f1_score(y, pred, labels=test_classes, average="macro", zero_division=0)
    return {"auc": float(np.mean(aucs)) if aucs else float("nan"), "f1": float(f1)}


def _fit_predict_classes(
    x_tr: pd.DataFrame, y_tr: np.ndarray, x_te: pd.DataFrame, classes: np.ndarray,
    params: dict[str, Any],
    importances: list[np.ndarray] | None = None,
) -> np.ndarray:
    import lightgbm as lgb

    proba = np.zeros((len(x_te), len(classes)))
    seen = np.unique(y_tr)
    col = pd.Index(classes).get_indexer(seen)
    if len(seen) == 1:
        proba[:, col[0]] = 1.0
        if importances is not None:
            importances.append(np.zeros(x_tr.shape[1]))
        return proba
    code = pd.Index(seen).get_indexer(y_tr)
    model = lgb.LGBMClassifier(**params)
    model.fit(x_tr, code)
    proba[:, col[model.classes_]] = model.predict_proba(x_te)
    if importances is not None:
        importances.append(model.booster_.feature_importance(importance_type="gain"))
    return proba


def importance_agreement(tstr_gain: np.ndarray, trtr_gain: np.ndarray, top: int = 5) -> dict[str, float]:
    """Do models trained on synthetic and on real data rely on the same features?

    ``importance_spearman``: rank correlation of LightGBM gain importances; ``importance_top_overlap``:
    share of the real model's ``top`` features also in the synthetic model's top.
    """
    from scipy.stats import spearmanr

    a, b = np.asarray(tstr_gain, float), np.asarray(trtr_gain, float)
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return {"importance_spearman": float("nan"), "importance_top_overlap": float("nan")}
    k = min(top, len(a))
    overlap = len(set(np.argsort(-a)[:k]) & set(np.argsort(-b)[:k])) / k
    return {"importance_spearman": float(spearmanr(a, b).statistic), "importance_top_overlap": float(overlap)}


def tstr(
    syn: pd.DataFrame,
    train: pd.DataFrame,
    test: pd.DataFrame,
    target: str,
    kinds: dict[str, str],
    seed: int = 0,
    params: dict[str, Any] | None = None,
) -> dict[str, float]:
    """TSTR and TRTR scores for one target; see the module docstring for every choice.

    Keys: classification ``tstr_auc, trtr_auc, tstr_f1, trtr_f1, tstr_ratio, f1_ratio``;
    regression ``tstr_rmse, trtr_rmse, tstr_r2, trtr_r2, tstr_ratio``; plus ``n_test``.
    NaN where a score is undefined (empty synthetic set, a test split with one class).
    """
    if target not in kinds:
        raise DataError(f"utility target '{target}' is not a column of the analysis table")
    for df, name in ((syn, "synthetic"), (train, "train"), (test, "test")):
        check_columns(df, kinds, name)
    p = lightgbm_params(seed, params)
    feats = {c: k for c, k in kinds.items() if c != target}
    kind = kinds[target]
    classification = kind in LABEL_KINDS

    def keep(df: pd.DataFrame) -> pd.DataFrame:
        return df[df[target].notna().to_numpy()].reset_index(drop=True)

    syn, train, test = keep(syn), keep(train), keep(test)
    nan = float("nan")
    x_sy, x_tr, x_te = _feature_frames([syn, train, test], feats)
    out: dict[str, float] = {"n_test": float(len(test))}

    if classification:
        y_sy, y_tr, y_te = (labels(df[target], kind) for df in (syn, train, test))
        classes = np.array(sorted(set(y_tr) | set(y_te) | set(y_sy)), dtype=object)
        gains: dict[str, np.ndarray] = {}
        for name, x, y in (("tstr", x_sy, y_sy), ("trtr", x_tr, y_tr)):
            if len(y) == 0 or len(y_te) == 0:
                out[f"{name}_auc"] = out[f"{name}_f1"] = nan
                continue
            imp: list[np.ndarray] = []
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                proba = _fit_predict_classes(x, y, x_te, classes, p, imp)
            gains[name] = imp[0]
            s = _class_scores(y_te, proba, classes)
            out[f"{name}_auc"], out[f"{name}_f1"] = s["auc"], s["f1"]
        out["tstr_ratio"] = _ratio(out["tstr_auc"], out["trtr_auc"])
        out["f1_ratio"] = _ratio(out["tstr_f1"], out["trtr_f1"])
        out.update(importance_agreement(gains.get("tstr", []), gains.get("trtr", [])))
        return out

    import lightgbm as lgb

    y_te = numeric_values(test[target], kind)
    gains = {}
    for name, x, df in (("tstr", x_sy, syn), ("trtr", x_tr, train)):
        if len(df) == 0 or len(y_te) == 0:
            out[f"{name}_rmse"] = out[f"{name}_r2"] = nan
            continue
        model = lgb.LGBMRegressor(**p)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            model.fit(x, numeric_values(df[target], kind))
            pred = model.predict(x_te)
        gains[name] = model.booster_.feature_importance(importance_type="gain")
        out[f"{name}_rmse"] = float(np.sqrt(mean_squared_error(y_te, pred)))
        out[f"{name}_r2"] = float(r2_score(y_te, pred)) if len(y_te) > 1 else nan
    out["tstr_ratio"] = _ratio(out["trtr_rmse"], out["tstr_rmse"])
    out.update(importance_agreement(gains.get("tstr", []), gains.get("trtr", [])))
    return out


def _ratio(a: float, b: float) -> float:
    if not (np.isfinite(a) and np.isfinite(b)) or b == 0:
        return float("nan")
    return float(a / b)
