"""The headline metrics the benchmark report shows beside the meta-metric."""

from __future__ import annotations

import pandas as pd

HEADLINE: list[tuple[str, str]] = [
    ("fidelity.shape_mean", "mean per-column 1−KS / 1−TVD (train vs synthetic)"),
    ("fidelity.trend_mean", "mean per-pair correlation / contingency similarity"),
    ("detection.logistic", "1 − (2·max(AUC, 0.5) − 1) of a logistic real-vs-synthetic classifier"),
    ("detection.lightgbm", "the same with LightGBM (stronger)"),
    ("detection.lightgbm_unseen", "the LightGBM detection against real customers no generator saw (the test split)"),
    ("utility.tstr_ratio", "mean over targets of TSTR / TRTR AUC, capped at 1"),
    ("privacy.dcr_balance", "1 − 2·|DCR share − 0.5|: 1 when synthetic rows sit no closer to train than to holdout"),
]


def add_headline_columns(table: pd.DataFrame) -> pd.DataFrame:
    """Derived headline columns: the mean TSTR ratio over targets and the DCR balance."""
    t = table.copy()
    ratios = [c for c in t.columns if c.startswith("utility.") and c.endswith(".tstr_ratio")]
    if ratios:
        t["utility.tstr_ratio"] = t[ratios].astype(float).clip(upper=1.0).mean(axis=1)
    if "privacy.dcr_share" in t:
        t["privacy.dcr_balance"] = 1 - 2 * (t["privacy.dcr_share"].astype(float) - 0.5).abs()
    return t
