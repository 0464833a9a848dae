"""All metrics of one synthetic portfolio against the real splits, as a flat dict + plot tables."""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

from acacia.data.portfolio import Portfolio
from acacia.evaluation.detection import detection_score
from acacia.evaluation.features import analysis_table
from acacia.evaluation.fidelity import column_pair_trends, column_shapes, missingness_similarity
from acacia.evaluation.privacy import dcr_metrics
from acacia.evaluation.utility import tstr


def _same_size(a: pd.DataFrame, b: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = min(len(a), len(b))
    pick = lambda df: df.iloc[np.sort(rng.choice(len(df), n, replace=False))].reset_index(drop=True)  # noqa: E731
    return pick(a), pick(b)


def profile(real: Portfolio, syn: Portfolio) -> pd.DataFrame:
    """Per-period mean and 10/90 % quantiles of kWh, real vs synthetic."""
    if real.schema.series is None:
        return pd.DataFrame(columns=["period_start", "real_mean", "syn_mean", "real_p10", "real_p90",
                                     "syn_p10", "syn_p90"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        r, s = real.series_matrix(), syn.series_matrix()
        out = {"period_start": real.schema.series.periods.strftime("%Y-%m-%d")}
        for who, m in (("real", r), ("syn", s)):
            out[f"{who}_mean"] = np.nanmean(m, axis=0)
            out[f"{who}_p10"], out[f"{who}_p90"] = np.nanpercentile(m, [10, 90], axis=0)
    return pd.DataFrame(out).round(3)


def evaluate(train: Portfolio, holdout: Portfolio, test: Portfolio, synthetic: Portfolio,
             cfg: dict[str, Any], synthetic_is_holdout: bool = False
             ) -> tuple[dict[str, float | None], dict[str, pd.DataFrame]]:
    """``synthetic_is_holdout``: the holdout reference is being scored; its distance-based privacy
    metrics then use the test split as the unseen reference (against itself they are degenerate)."""
    start = time.perf_counter()
    seed = int(cfg.get("seed", 0))
    max_rows = cfg.get("max_rows")
    folds = int(cfg.get("detection_folds", 5))
    lgb_params = cfg.get("lightgbm") or {}
    rng = np.random.default_rng(seed)

    tr, kinds = analysis_table(train)
    ho, _ = analysis_table(holdout)
    te, _ = analysis_table(test)
    sy, _ = analysis_table(synthetic)
    real_eq, syn_eq = _same_size(tr, sy, rng)

    shapes = column_shapes(real_eq, syn_eq, kinds)
    trends = column_pair_trends(real_eq, syn_eq, kinds)
    m: dict[str, float | None] = {
        "fidelity.shape_mean": float(np.mean(list(shapes.values()))),
        "fidelity.trend_mean": float(np.mean(list(trends.values()))) if trends else None,
        "fidelity.missingness": missingness_similarity(real_eq, syn_eq),
    }
    for model in ("logistic", "lightgbm"):
        d = detection_score(tr, sy, kinds, model=model, folds=folds, seed=seed, max_rows=max_rows,
                            lightgbm=lgb_params)
        m[f"detection.{model}"], m[f"detection.{model}_auc"] = d["score"], d["auc"]
    priv, dcr = dcr_metrics(tr, te if synthetic_is_holdout else ho, sy, kinds, seed=seed, max_rows=max_rows)
    m.update({f"privacy.{k}": v for k, v in priv.items()})
    targets = cfg.get("targets") or train.schema.targets
    for target in targets:
        if target not in kinds:
            from acacia.errors import ParamsError

            raise ParamsError(f"evaluate.targets: unknown column '{target}'")
        u = tstr(sy, tr, te, target, kinds, seed=seed, params=lgb_params)
        m.update({f"utility.{target}.{k}": v for k, v in u.items()})
    m["n_real"], m["n_synthetic"] = float(len(tr)), float(len(sy))
    m["evaluate_seconds"] = round(time.perf_counter() - start, 3)
    m = {k: (None if v is None or not np.isfinite(v) else float(v)) for k, v in m.items()}
    plots = {
        "shapes": pd.DataFrame({"column": list(shapes), "kind": [kinds[c] for c in shapes],
                                "score": np.round(list(shapes.values()), 4)}),
        "dcr": dcr,
        "profile": profile(train, synthetic),
    }
    return m, plots
