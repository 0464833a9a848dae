"""The meta-metric: every metric rescaled between a worst case and the holdout reference,
averaged into pillars, pillars combined by a weighted geometric mean (../shared/DESIGN.md §4).

Rescaling: ``score = (value − worst) / (reference − worst)`` clipped to [0, 1], where the
reference is the holdout pseudo-model's own value for that metric (what real data the generator
never saw scores with this much data) and ``worst`` is declared per metric below. A generator
at least as good as real unseen data scores 1; one at the worst case scores 0. Without a holdout
row the metric's ideal value is the reference.

The overall score is a weighted *geometric* mean of the pillars, so a generator that scores 0
on privacy (copies its training rows) scores 0 overall however faithful it is.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from acacia.errors import ParamsError

PILLARS = ("fidelity", "series", "utility", "privacy")


@dataclass(frozen=True)
class Rescaling:
    pattern: str  # metric key, fnmatch-style
    pillar: str
    ideal: float  # the best possible value (used when there is no holdout row)
    worst: float  # the value that scores 0


# Worst cases: detection/shape/trend scores of 0; profile and distribution errors of 1 (as far
# from real as the whole real signal); a TSTR ratio of 0.5 (a coin-flip model against a real one);
# DCR share of 1 (every synthetic row closest to a training row); exact-copy rate of 10 %;
# Anonymeter risks of 1 (every attack on training rows succeeds beyond the control's rate). For
# inference the pillar takes the mean over secret columns: the max over ~25 noisy estimates is
# biased upwards by noise alone.
RESCALINGS: list[Rescaling] = [
    Rescaling("fidelity.shape_mean", "fidelity", 1.0, 0.0),
    Rescaling("fidelity.trend_mean", "fidelity", 1.0, 0.0),
    Rescaling("fidelity.alpha_precision", "fidelity", 1.0, 0.0),
    Rescaling("fidelity.beta_recall", "fidelity", 1.0, 0.0),
    Rescaling("fidelity.missingness", "fidelity", 1.0, 0.0),
    Rescaling("detection.logistic", "fidelity", 1.0, 0.0),
    Rescaling("detection.lightgbm", "fidelity", 1.0, 0.0),
    Rescaling("series.profile_quantile_nmae", "series", 0.0, 1.0),
    Rescaling("series.acf_distance", "series", 0.0, 1.0),
    Rescaling("series.annual_total_ks", "series", 0.0, 1.0),
    Rescaling("series.winter_summer_error", "series", 0.0, 1.0),
    Rescaling("series.thermo_error", "series", 0.0, 1.0),
    Rescaling("series.detection_score", "series", 1.0, 0.0),
    Rescaling("series.next_step_score", "series", 1.0, 0.5),
    # per-customer responses (heating gradients, event responses) by group: 1 − KS, worst 0
    Rescaling("series.response_*_score", "series", 1.0, 0.0),
    Rescaling("utility.*.tstr_ratio", "utility", 1.0, 0.5),
    Rescaling("utility.*.importance_spearman", "utility", 1.0, 0.0),
    # study@<name>: share of the real data's study conclusions a portfolio reaches too (0 = none;
    # the holdout's share, below 1 by sampling noise alone, is the reference).
    Rescaling("study.*.conclusions_preserved", "utility", 1.0, 0.0),
    Rescaling("privacy.dcr_share", "privacy", 0.5, 1.0),
    Rescaling("privacy.exact_match_rate", "privacy", 0.0, 0.1),
    Rescaling("privacy.dcr_p5_ratio", "privacy", 1.0, 0.0),
    Rescaling("privacy.nndr_p5_ratio", "privacy", 1.0, 0.0),
    Rescaling("privacy.mia_distance_auc", "privacy", 0.5, 1.0),
    Rescaling("privacy.mia_density_auc", "privacy", 0.5, 1.0),
    Rescaling("privacy.singling_out_risk", "privacy", 0.0, 1.0),
    Rescaling("privacy.singling_out_univariate_risk", "privacy", 0.0, 1.0),
    Rescaling("privacy.linkability_risk", "privacy", 0.0, 1.0),
    Rescaling("privacy.inference_risk", "privacy", 0.0, 1.0),
]


def _derived(table: pd.DataFrame) -> pd.DataFrame:
    t = table.copy()
    if {"privacy.dcr_p5_syn_train", "privacy.dcr_p5_holdout_train"} <= set(t.columns):
        with np.errstate(invalid="ignore", divide="ignore"):
            # Distances to the closest training row, synthetic vs real unseen rows: below 1
            # means synthetic rows sit closer to training rows than new real customers do.
            t["privacy.dcr_p5_ratio"] = (t["privacy.dcr_p5_syn_train"].astype(float)
                                         / t["privacy.dcr_p5_holdout_train"].astype(float)).clip(upper=1.0)
    if {"privacy.nndr_p5_syn_train", "privacy.nndr_p5_holdout_train"} <= set(t.columns):
        with np.errstate(invalid="ignore", divide="ignore"):
            t["privacy.nndr_p5_ratio"] = (t["privacy.nndr_p5_syn_train"].astype(float)
                                          / t["privacy.nndr_p5_holdout_train"].astype(float)).clip(upper=1.0)
    return t


def rescale(table: pd.DataFrame, reference: str | None = "holdout") -> pd.DataFrame:
    """One column per rescaled metric (``score.<metric>``), rows as ``table`` (a ``model``
    column plus flat metrics)."""
    t = _derived(table)
    ref_row = t[t["model"] == reference] if reference is not None and "model" in t else t.iloc[:0]
    out = pd.DataFrame(index=t.index)
    for r in RESCALINGS:
        for col in fnmatch.filter(t.columns, r.pattern):
            v = pd.to_numeric(t[col], errors="coerce").astype(float)
            ref = float(ref_row[col].iloc[0]) if len(ref_row) and pd.notna(ref_row[col].iloc[0]) else r.ideal
            if r.pattern in ("privacy.dcr_share", "privacy.mia_distance_auc", "privacy.mia_density_auc"):
                # Either side of 0.5 is a departure from what unseen real data does.
                v = 0.5 + (v - 0.5).abs()
                ref = 0.5 + abs(ref - 0.5)
            if ref == r.worst:
                ref = r.ideal
            out[f"score.{col}"] = ((v - r.worst) / (ref - r.worst)).clip(0.0, 1.0)
    return out


def pillar_of(score_column: str) -> str:
    metric = score_column.removeprefix("score.")
    for r in RESCALINGS:
        if fnmatch.fnmatch(metric, r.pattern):
            return r.pillar
    raise KeyError(metric)


def check_weights(weights: dict[str, Any] | None) -> dict[str, float]:
    w = {p: 1.0 for p in PILLARS}
    for k, v in (weights or {}).items():
        if k not in PILLARS:
            raise ParamsError(f"compare.weights: unknown pillar '{k}', expected some of {list(PILLARS)}")
        if not isinstance(v, int | float) or v < 0:
            raise ParamsError(f"compare.weights.{k}: expected a non-negative number, got {v!r}")
        w[k] = float(v)
    if sum(w.values()) <= 0:
        raise ParamsError("compare.weights: at least one pillar needs a positive weight")
    return w


def meta_metric(table: pd.DataFrame, weights: dict[str, Any] | None = None,
                reference: str | None = "holdout") -> pd.DataFrame:
    """``table`` with ``pillar.<name>`` columns and ``overall``, sorted best first, ranked."""
    w = check_weights(weights)
    scores = rescale(table, reference)
    t = pd.concat([table.reset_index(drop=True), scores.reset_index(drop=True)], axis=1)
    present = []
    for p in PILLARS:
        cols = [c for c in scores.columns if pillar_of(c) == p]
        if cols:
            t[f"pillar.{p}"] = scores[cols].mean(axis=1, skipna=True).to_numpy()
            present.append(p)
    pw = np.array([w[p] for p in present])
    vals = t[[f"pillar.{p}" for p in present]].to_numpy(dtype=float)
    ok = ~np.isnan(vals) & (pw > 0)[None, :]  # a zero-weight pillar must not turn 0·log 0 into NaN
    with np.errstate(divide="ignore"):
        logs = np.where(ok, np.log(np.clip(vals, 0.0, None)), 0.0)
    wsum = (ok * pw).sum(axis=1)
    t["overall"] = np.where(wsum > 0, np.exp((logs * pw).sum(axis=1) / np.maximum(wsum, 1e-12)), np.nan)
    t = t.sort_values("overall", ascending=False, na_position="last").reset_index(drop=True)
    t.insert(0, "rank", np.arange(1, len(t) + 1))
    return t
