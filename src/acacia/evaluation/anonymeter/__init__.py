"""Anonymeter's privacy risks (Giomi et al., PoPETs 2023): singling out, linkability, inference.

Own vectorised implementation of the three attacks of the ``anonymeter`` package (statice), each
run on the training rows the generator saw (main), on control rows it never saw (control) and by
a random guesser (baseline); risk = (main − control) / (1 − control) with a Wilson-based
confidence interval (:mod:`.risk`). Agreement with anonymeter 1.1.0 is tested in
``tests/test_anonymeter.py``; each module lists where it departs from the package and why.

Columns attacked in the benchmark: the analysis table (customers' columns plus six series
summaries, :func:`acacia.evaluation.features.analysis_table`: 33 columns on the simulated
portfolio), not the 157 weekly readings. An attacker's background knowledge about a customer is
contract, dwelling, household and a rough annual consumption, not last year's week-by-week meter
readings. With the weekly columns, a three-condition predicate on continuous readings would
isolate a row of *any* real sample (training or control alike), and the readings would make up
157 of the ~190 terms of every neighbour distance: all three attacks would measure the series'
noise rather than leakage, at several times the cost. Memorised series still show: a copied
customer has a copied annual total, winter/summer ratio, variability and autocorrelation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from acacia.errors import ParamsError
from acacia.evaluation.anonymeter.inference import inference_risks
from acacia.evaluation.anonymeter.linkability import linkability_risk
from acacia.evaluation.anonymeter.risk import RiskResult, risk_from_counts, success_rate
from acacia.evaluation.anonymeter.singling_out import singling_out_risk
from acacia.evaluation.anonymeter.table import AttackData

__all__ = ["AttackData", "RiskResult", "anonymeter_config", "anonymeter_metrics", "inference_risks",
           "linkability_risk", "linkability_split", "risk_from_counts", "singling_out_risk", "success_rate"]

# Anonymeter's defaults (n_attacks 500, 3 columns per predicate, 1 neighbour, 95 %, 5 %), except
# max_attempts (10 million there): 100,000 candidates keep the attacks cheap on the default
# portfolio (experiments/2026-12-scale/evaluate_scale.md) but do not always find all 500
# multivariate predicates.
# Rates stay over 500, as in Anonymeter, so the risk is somewhat underestimated, alike for every
# generator.
DEFAULTS: dict[str, Any] = {"n_attacks": 500, "n_cols": 3, "n_neighbors": 1, "max_attempts": 100_000,
                            "confidence": 0.95, "tolerance": 0.05}
RISK_COLUMNS = ["attack", "secret", "risk", "ci_low", "ci_high", "main_rate", "control_rate",
                "baseline_rate", "n_main", "n_control", "n_baseline"]


def anonymeter_config(cfg: dict[str, Any] | None) -> dict[str, Any]:
    """``evaluate.anonymeter`` with defaults filled in, each value checked."""
    cfg = dict(cfg or {})
    unknown = set(cfg) - set(DEFAULTS)
    if unknown:
        raise ParamsError(f"evaluate.anonymeter: unknown key(s) {sorted(unknown)}, expected some of {sorted(DEFAULTS)}")
    out = {**DEFAULTS, **{k: v for k, v in cfg.items() if v is not None}}
    for key in ("n_attacks", "n_cols", "n_neighbors", "max_attempts"):
        if not isinstance(out[key], int) or isinstance(out[key], bool) or out[key] < 1:
            raise ParamsError(f"evaluate.anonymeter.{key}: expected an integer ≥ 1, got {out[key]!r}")
    if not isinstance(out["confidence"], float) or not 0 < out["confidence"] < 1:
        raise ParamsError(f"evaluate.anonymeter.confidence: expected a level in (0, 1), got {out['confidence']!r}")
    if not isinstance(out["tolerance"], int | float) or isinstance(out["tolerance"], bool) or out["tolerance"] < 0:
        raise ParamsError(f"evaluate.anonymeter.tolerance: expected a number ≥ 0, got {out['tolerance']!r}")
    return out


def linkability_split(columns: list[str]) -> tuple[list[str], list[str]]:
    """Two auxiliary views: alternate columns, so that both mix customer attributes and series
    summaries (Anonymeter leaves the split to the user)."""
    return list(columns[0::2]), list(columns[1::2])


def _row(attack: str, secret: str, r: RiskResult) -> dict[str, Any]:
    d = r.as_dict()
    return {"attack": attack, "secret": secret, **{k: d[k] for k in RISK_COLUMNS[2:]}}


def anonymeter_metrics(
    ori: pd.DataFrame,
    syn: pd.DataFrame,
    control: pd.DataFrame,
    kinds: dict[str, str],
    cfg: dict[str, Any] | None = None,
    seed: int = 0,
) -> tuple[dict[str, float], pd.DataFrame]:
    """Flat risks (``<attack>_risk``, ``_ci_low``, ``_ci_high``) and one row per attack (and per
    secret column for inference) with the rates behind them.

    ``ori``: the training rows; ``control``: real rows the generator never saw. Inference is
    summarised over its secret columns (every column, the rest known) by the mean risk and
    bounds, whose band is wider than the mean's own interval (the mean of half-widths bounds
    the half-width of a mean), and by the largest risk.
    """
    c = anonymeter_config(cfg)
    data = AttackData.from_frames(ori, syn, control, kinds)
    common = {"n_attacks": c["n_attacks"], "seed": seed, "confidence": c["confidence"]}
    results = {
        "singling_out": singling_out_risk(data, "multivariate", n_cols=min(c["n_cols"], len(data.columns)),
                                          max_attempts=c["max_attempts"], **common),
        "singling_out_univariate": singling_out_risk(data, "univariate", **common),
    }
    if len(data.columns) >= 2:
        results["linkability"] = linkability_risk(data, linkability_split(data.columns),
                                                  n_neighbors=c["n_neighbors"], **common)
    inference = inference_risks(data, tolerance=c["tolerance"], **common) if len(data.columns) >= 2 else {}

    flat: dict[str, float] = {}
    for name, r in results.items():
        flat.update({f"{name}_risk": r.risk, f"{name}_ci_low": r.ci_low, f"{name}_ci_high": r.ci_high})
    if inference:
        for field in ("risk", "ci_low", "ci_high"):
            flat[f"inference_{field}"] = float(np.mean([getattr(r, field) for r in inference.values()]))
        flat["inference_risk_max"] = float(np.max([r.risk for r in inference.values()]))
    rows = [_row(name, "", r) for name, r in results.items()]
    rows += [_row("inference", secret, r) for secret, r in inference.items()]
    return flat, pd.DataFrame(rows, columns=RISK_COLUMNS)
