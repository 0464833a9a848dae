"""A privacy verdict per model: which attacks flag it, against thresholds a reader can check.

The meta-metric grades privacy on a continuous scale; the decision to keep or publish a synthetic
portfolio also needs a yes/no per attack. Each rule below compares a model's value with what real
customers the generator never saw score (the holdout side of each attack), with a margin wide
enough that sampling noise on a few hundred rows does not flag a fair generator:

- ``dcr_share`` above 0.6: clearly more synthetic rows sit closer to train than to the holdout;
- ``exact_match_rate`` above the holdout's own rate (real duplicates) by more than 0.01;
- ``dcr_p5_ratio`` / ``nndr_p5_ratio`` (synthetic → train 5th percentile over holdout → train)
  below 0.5: the closest synthetic rows hug training rows twice as tightly as new customers do;
- membership-inference AUCs (distance, density) above 0.6;
- Anonymeter risks (singling out, univariate singling out, linkability, inference): the lower
  end of the risk's confidence interval above 0.05, i.e. a risk significantly above 5 %.

A metric that is missing (``None``/NaN, e.g. no holdout row) is reported as not evaluated, never
as passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from acacia.errors import ParamsError


@dataclass(frozen=True)
class Rule:
    name: str  # the attack, as reports show it
    metric: str  # column of the compare table
    direction: str  # "above": flagged when value > threshold; "below": when value < threshold
    threshold: float
    relative_to: str | None = None  # a column added to the threshold (the unseen side's value)


DEFAULT_THRESHOLDS: dict[str, float] = {
    "dcr_share": 0.6,
    "exact_match_excess": 0.01,
    "dcr_p5_ratio": 0.5,
    "nndr_p5_ratio": 0.5,
    "mia_auc": 0.6,
    "anonymeter_ci_low": 0.05,
}


def rules(thresholds: dict[str, Any] | None = None) -> list[Rule]:
    t = dict(DEFAULT_THRESHOLDS)
    for k, v in (thresholds or {}).items():
        if k not in DEFAULT_THRESHOLDS:
            raise ParamsError(f"compare.privacy_thresholds: unknown key '{k}', "
                              f"expected some of {sorted(DEFAULT_THRESHOLDS)}")
        if not isinstance(v, int | float) or isinstance(v, bool):
            raise ParamsError(f"compare.privacy_thresholds.{k}: expected a number, got {v!r}")
        t[k] = float(v)
    out = [
        Rule("DCR share", "privacy.dcr_share", "above", t["dcr_share"]),
        Rule("exact copies", "privacy.exact_match_rate", "above", t["exact_match_excess"],
             "privacy.exact_match_rate_holdout"),
        Rule("DCR 5th percentile", "privacy.dcr_p5_ratio", "below", t["dcr_p5_ratio"]),
        Rule("NNDR 5th percentile", "privacy.nndr_p5_ratio", "below", t["nndr_p5_ratio"]),
        Rule("MIA (distance)", "privacy.mia_distance_auc", "above", t["mia_auc"]),
        Rule("MIA (density)", "privacy.mia_density_auc", "above", t["mia_auc"]),
    ]
    for attack, label in (("singling_out", "singling out"), ("singling_out_univariate", "singling out (1 column)"),
                          ("linkability", "linkability"), ("inference", "attribute inference")):
        out.append(Rule(f"Anonymeter {label}", f"privacy.{attack}_ci_low", "above", t["anonymeter_ci_low"]))
    return out


def _ratio(t: pd.DataFrame, num: str, den: str) -> pd.Series:
    if num not in t or den not in t:
        return pd.Series(np.nan, index=t.index)
    a, b = pd.to_numeric(t[num], errors="coerce"), pd.to_numeric(t[den], errors="coerce")
    with np.errstate(invalid="ignore", divide="ignore"):
        return (a / b).where(b > 0)


def privacy_flags(table: pd.DataFrame, thresholds: dict[str, Any] | None = None) -> pd.DataFrame:
    """One row per model (``table``'s ``model`` column), one column per attack: ``True`` when the
    attack flags the model, ``False`` when it does not, ``NaN`` when its metric is missing."""
    t = table.copy()
    t["privacy.dcr_p5_ratio"] = _ratio(t, "privacy.dcr_p5_syn_train", "privacy.dcr_p5_holdout_train")
    t["privacy.nndr_p5_ratio"] = _ratio(t, "privacy.nndr_p5_syn_train", "privacy.nndr_p5_holdout_train")
    out = pd.DataFrame({"model": t["model"].to_numpy()})
    for r in rules(thresholds):
        v = pd.to_numeric(t[r.metric], errors="coerce") if r.metric in t else pd.Series(np.nan, index=t.index)
        limit = pd.Series(r.threshold, index=t.index, dtype=float)
        if r.relative_to is not None:
            base = pd.to_numeric(t[r.relative_to], errors="coerce") if r.relative_to in t else np.nan
            limit = limit + base
        flag = (v > limit) if r.direction == "above" else (v < limit)
        known = v.notna() & limit.notna()
        out[r.name] = flag.where(known).to_numpy(dtype=object)
    return out


def privacy_verdicts(table: pd.DataFrame, thresholds: dict[str, Any] | None = None) -> pd.DataFrame:
    """Per model: ``privacy.flags`` (how many attacks flag it), ``privacy.attacks_run`` and
    ``privacy.verdict``, a sentence naming the attacks that flag it."""
    flags = privacy_flags(table, thresholds)
    attacks = [c for c in flags.columns if c != "model"]
    rows = []
    for _, r in flags.iterrows():
        hit = [a for a in attacks if r[a] is True]
        run = [a for a in attacks if r[a] is True or r[a] is False]
        if not run:
            verdict = "not evaluated"
        elif hit:
            verdict = f"LEAK: flagged by {len(hit)}/{len(run)} attacks ({', '.join(hit)})"
        else:
            verdict = f"no leak detected by {len(run)} attacks"
        rows.append({"model": r["model"], "privacy.flags": float(len(hit)),
                     "privacy.attacks_run": float(len(run)), "privacy.verdict": verdict})
    return pd.DataFrame(rows)
