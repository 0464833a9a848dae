"""A provisional ranking from the flat metrics (the meta-metric issue replaces the mean)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

HEADLINE: list[tuple[str, str]] = [
    ("fidelity.shape_mean", "mean per-column 1−KS / 1−TVD (train vs synthetic)"),
    ("fidelity.trend_mean", "mean per-pair correlation / contingency similarity"),
    ("detection.logistic", "1 − (2·max(AUC, 0.5) − 1) of a logistic real-vs-synthetic classifier"),
    ("detection.lightgbm", "the same with LightGBM (stronger)"),
    ("utility.tstr_ratio", "mean over targets of TSTR / TRTR AUC, capped at 1"),
    ("privacy.dcr_balance", "1 − 2·|DCR share − 0.5|: 1 when synthetic rows sit no closer to train than to holdout"),
]


def rank_models(table: pd.DataFrame, cfg: dict[str, Any]) -> pd.DataFrame:
    t = table.copy()
    ratios = [c for c in t.columns if c.startswith("utility.") and c.endswith(".tstr_ratio")]
    if ratios:
        t["utility.tstr_ratio"] = t[ratios].astype(float).clip(upper=1.0).mean(axis=1)
    if "privacy.dcr_share" in t:
        t["privacy.dcr_balance"] = 1 - 2 * (t["privacy.dcr_share"].astype(float) - 0.5).abs()
    cols = [c for c, _ in HEADLINE if c in t]
    weights = cfg.get("weights") or {}
    w = np.array([float(weights.get(c, 1.0)) for c in cols])
    vals = t[cols].astype(float).to_numpy()
    t["score"] = np.nansum(vals * w, axis=1) / np.maximum((~np.isnan(vals) * w).sum(axis=1), 1e-12)
    t = t.sort_values("score", ascending=False).reset_index(drop=True)
    t.insert(0, "rank", np.arange(1, len(t) + 1))
    return t
