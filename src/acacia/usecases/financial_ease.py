"""Use case: score the financial-ease band from contract, dwelling and consumption features.

The team's model is a LightGBM classifier of the band (``financial_ease``: very difficult …
comfortable) on a declared feature list. It is trained once on the real train split (TRTR) and
once on each synthetic portfolio (TSTR), and every model is scored on the real test split with
the utility pillar's own helpers (``evaluation/utility.py``: shared category encoding, a class
the synthetic data never produced gets probability 0):

- ``tstr_auc`` / ``trtr.auc``: macro one-vs-rest AUC; ``tstr_ratio`` = tstr_auc / trtr_auc;
  ``tstr_f1``: macro F1;
- ``ece``: expected calibration error of the class probabilities, pooled over the classes
  (every (customer, class) pair is one probability and one 0/1 outcome), in ``bins`` equal-width
  bins: Σ_b (n_b / N)·|observed_b − predicted_b|; the calibration plot draws the same bins;
- ``importance_spearman`` and ``importance_top_overlap``: do the models trained on synthetic and
  on real data rely on the same features (rank correlation of LightGBM gains; share of the real
  model's ``top`` features in the synthetic model's top ``top``).

Rows with a missing band are dropped (in the simulator the band is missing not at random:
the very difficult are the least likely to answer; the use case is scored on the answers).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from acacia.data.portfolio import Portfolio
from acacia.errors import DataError, ParamsError
from acacia.evaluation.detection import lightgbm_params
from acacia.evaluation.features import LABEL_KINDS, SERIES_FEATURES, analysis_table, labels
from acacia.evaluation.utility import (
    _class_scores,
    _feature_frames,
    _fit_predict_classes,
    importance_agreement,
)
from acacia.usecases.common import check_keys

TRTR = "trtr"  # the key prefix of the model trained on real data
DEFAULTS: dict[str, Any] = {
    "target": "financial_ease",
    "features": None,  # None: every column of the analysis table but the target
    "seed": 0,
    "bins": 10,
    "top": 5,
    "lightgbm": {"n_estimators": 100, "num_leaves": 15, "learning_rate": 0.05, "min_child_samples": 10},
}


def config(cfg: dict[str, Any] | None, section: str = "usecases.financial_ease") -> dict[str, Any]:
    """The checked use case (``section``: its params path, for messages) with defaults filled in."""
    c = check_keys(cfg, DEFAULTS, section)
    if not isinstance(c["bins"], int) or c["bins"] < 2:
        raise ParamsError(f"{section}.bins: expected an integer ≥ 2, got {c['bins']!r}")
    if c["features"] is not None and (not isinstance(c["features"], list) or not c["features"]):
        raise ParamsError(f"{section}.features: expected a non-empty list of columns or null")
    return c


def _frame(p: Portfolio, target: str, features: list[str] | None, source: str,
           section: str = "usecases.financial_ease") -> tuple[pd.DataFrame, dict[str, str]]:
    table, kinds = analysis_table(p)
    if target not in kinds:
        raise DataError(f"{source}: target column '{target}' missing from the customers table")
    if kinds[target] not in LABEL_KINDS:
        raise DataError(f"{source}: target '{target}' is {kinds[target]}, expected a categorical band")
    cols = [c for c in kinds if c != target] if features is None else list(features)
    missing = [c for c in cols if c not in kinds]
    if missing:
        known = [c for c in kinds if c not in SERIES_FEATURES]
        raise DataError(f"{source}: {section}.features names unknown column(s) {missing}; "
                        f"columns are {known} and the series features {list(SERIES_FEATURES)}")
    table = table[table[target].notna().to_numpy()].reset_index(drop=True)
    return table, {c: kinds[c] for c in [*cols, target]}


def calibration_bins(y: np.ndarray, proba: np.ndarray, classes: np.ndarray, bins: int) -> pd.DataFrame:
    """Pooled one-vs-rest reliability table: ``bin, predicted, observed, count``."""
    p = proba.ravel()
    o = (y[:, None] == classes[None, :]).astype(float).ravel()
    b = np.minimum((p * bins).astype(int), bins - 1)
    df = pd.DataFrame({"bin": b, "p": p, "o": o}).groupby("bin")
    out = df.agg(predicted=("p", "mean"), observed=("o", "mean"), count=("o", "size")).reset_index()
    return out


def ece(table: pd.DataFrame) -> float:
    n = table["count"].sum()
    return float((table["count"] * (table["observed"] - table["predicted"]).abs()).sum() / n) if n else np.nan


def score(real_train: Portfolio, real_test: Portfolio, sources: dict[str, Portfolio],
          cfg: dict[str, Any] | None = None,
          section: str = "usecases.financial_ease") -> tuple[dict[str, float], pd.DataFrame, pd.DataFrame]:
    """(flat metrics, calibration table, importance table) for the real model and every source.

    Calibration rows: ``source, bin, predicted, observed, count``; importance rows:
    ``source, feature, gain, rank`` (rank 1 = the largest gain). ``source`` is ``trtr`` for the
    model trained on real data.
    """
    c = config(cfg, section)
    target, feats = c["target"], c["features"]
    train, kinds = _frame(real_train, target, feats, "real train split", section)
    test, _ = _frame(real_test, target, feats, "real test split", section)
    syn = {name: _frame(p, target, feats, f"synthetic/{name}", section)[0] for name, p in sources.items()}
    features = {k: v for k, v in kinds.items() if k != target}
    kind = kinds[target]
    y_tr, y_te = labels(train[target], kind), labels(test[target], kind)
    if len(np.unique(y_te)) < 2 or len(np.unique(y_tr)) < 2:
        raise DataError(f"{section}: '{target}' needs two classes in the real train and test splits")
    params = lightgbm_params(c["seed"], c["lightgbm"])
    metrics: dict[str, float] = {}
    cal, imp = [], []
    results: dict[str, tuple[dict[str, float], np.ndarray]] = {}
    for name, frame in [(TRTR, train), *syn.items()]:
        y = labels(frame[target], kind)
        classes = np.array(sorted(set(y_tr) | set(y_te) | set(y)), dtype=object)
        x_fit, x_te = _feature_frames([frame, test], features)
        gains: list[np.ndarray] = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            proba = (_fit_predict_classes(x_fit, y, x_te, classes, params, gains) if len(y)
                     else np.full((len(test), len(classes)), 1.0 / len(classes)))
        s = _class_scores(y_te, proba, classes)
        table = calibration_bins(y_te, proba, classes, c["bins"])
        s["ece"] = ece(table)
        gain = gains[0] if gains else np.zeros(len(features))
        results[name] = (s, gain)
        cal.append(table.assign(source=name))
        order = np.argsort(-gain, kind="stable")
        rank = np.empty(len(gain), dtype=int)
        rank[order] = np.arange(1, len(gain) + 1)
        imp.append(pd.DataFrame({"source": name, "feature": list(features), "gain": gain, "rank": rank}))
    real_s, real_gain = results[TRTR]
    metrics.update({f"{TRTR}.auc": real_s["auc"], f"{TRTR}.f1": real_s["f1"], f"{TRTR}.ece": real_s["ece"]})
    for name in syn:
        s, gain = results[name]
        metrics[f"{name}.tstr_auc"], metrics[f"{name}.tstr_f1"], metrics[f"{name}.ece"] = s["auc"], s["f1"], s["ece"]
        metrics[f"{name}.tstr_ratio"] = float(s["auc"] / real_s["auc"]) if real_s["auc"] > 0 else np.nan
        for k, v in importance_agreement(gain, real_gain, top=c["top"]).items():
            metrics[f"{name}.{k}"] = v
    calibration = pd.concat(cal, ignore_index=True)[["source", "bin", "predicted", "observed", "count"]]
    return metrics, calibration, pd.concat(imp, ignore_index=True)
