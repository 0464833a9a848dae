"""Releasing a synthetic portfolio: the privacy gate, the data card, the package.

A release is what leaves the team (a colleague, a paper's supplementary material): the two
synthetic tables, their schema and a data card saying where they come from (generator, params,
git and DVC revisions), how good and how private they measured, and what they should not be used
for. It is refused, with the failing checks named, when any privacy check flags the portfolio;
the checks and their thresholds are those of the benchmark's privacy verdict
(:mod:`acacia.evaluation.verdict`), read from ``release.privacy_thresholds``, so a portfolio the
benchmark calls leaky can never be released. A check that could not be evaluated (its metric is
missing) refuses too: a portfolio without its evidence does not leave.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from acacia.data.portfolio import CONSUMPTION_FILE, CUSTOMERS_FILE, SCHEMA_FILE
from acacia.errors import AcaciaError, DataError, ParamsError
from acacia.evaluation.verdict import privacy_flags, rules
from acacia.paths import file_digest, staged_dir

DATACARD_MD = "DATACARD.md"
DATACARD_JSON = "datacard.json"
RELEASED_FILES = (CUSTOMERS_FILE, CONSUMPTION_FILE, SCHEMA_FILE)
CONFIG_KEYS = ("privacy_thresholds", "known_limits")
# Metric key prefixes of reports/metrics/<model>.json, by data-card section.
SECTIONS = {"fidelity": ("fidelity.", "detection."), "series": ("series.",),
            "utility": ("utility.",), "privacy": ("privacy.",)}
# Limits true of every release, whatever its numbers.
STANDING_LIMITS = [
    "Privacy is measured, not guaranteed: the checks are distance, membership-inference and "
    "Anonymeter attacks run on this portfolio, not a formal guarantee such as differential privacy.",
    "Each customer is drawn by a model fitted on the training split; groups that were small there "
    "(a few dozen customers) are reproduced unreliably and should not be studied on their own.",
    "The fidelity and utility numbers compare with the real customers of one split of one "
    "dataset; they do not transfer to other portfolios or periods.",
]


class ReleaseRefused(AcaciaError):
    """A portfolio failed a release check; the message names each failing check."""


@dataclass(frozen=True)
class Check:
    name: str
    metric: str
    value: float | None
    limit: float | None  # the threshold the value was compared with (after any relative base)
    direction: str  # "above": fails when value > limit; "below": when value < limit
    failed: bool | None  # None: not evaluated (the metric is missing)

    def describe(self) -> str:
        if self.failed is None:
            return f"{self.name}: {self.metric} not measured"
        op = ">" if self.direction == "above" else "<"
        verb = "fails" if self.failed else "passes"
        rel = op if self.failed else ("≤" if op == ">" else "≥")
        return f"{self.name}: {self.metric} = {self.value:.4g} {rel} {self.limit:.4g} ({verb})"


def release_config(cfg: dict[str, Any] | None) -> dict[str, Any]:
    """``release`` params with each key checked (thresholds by :func:`verdict.rules`)."""
    cfg = dict(cfg or {})
    unknown = set(cfg) - set(CONFIG_KEYS)
    if unknown:
        raise ParamsError(f"release: unknown key(s) {sorted(unknown)}, expected some of {list(CONFIG_KEYS)}")
    thresholds = cfg.get("privacy_thresholds") or {}
    if not isinstance(thresholds, dict):
        raise ParamsError(f"release.privacy_thresholds: expected a mapping, got {thresholds!r}")
    rules(thresholds)  # raises on an unknown key or a non-number, naming it
    limits = cfg.get("known_limits") or []
    if not isinstance(limits, list) or not all(isinstance(x, str) for x in limits):
        raise ParamsError(f"release.known_limits: expected a list of sentences, got {limits!r}")
    return {"privacy_thresholds": thresholds, "known_limits": limits}


def _number(metrics: dict[str, Any], key: str) -> float | None:
    v = metrics.get(key)
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v) else None


def _metric_value(metrics: dict[str, Any], metric: str) -> float | None:
    if metric.endswith("_p5_ratio"):  # the verdict's derived ratios: synthetic over holdout side
        stem = metric.removesuffix("_ratio")
        num, den = _number(metrics, f"{stem}_syn_train"), _number(metrics, f"{stem}_holdout_train")
        return num / den if num is not None and den is not None and den > 0 else None
    return _number(metrics, metric)


def privacy_checks(metrics: dict[str, Any], thresholds: dict[str, Any] | None = None) -> list[Check]:
    """Every privacy rule of the verdict applied to one model's flat metrics."""
    flags = privacy_flags(pd.DataFrame([{"model": "release", **metrics}]), thresholds).iloc[0]
    out = []
    for r in rules(thresholds):
        flag = flags[r.name]
        base = _number(metrics, r.relative_to) if r.relative_to else 0.0
        value = _metric_value(metrics, r.metric)
        failed = bool(flag) if isinstance(flag, bool | np.bool_) else None  # NaN: not evaluated
        limit = r.threshold + base if base is not None else None
        out.append(Check(r.name, r.metric, value, limit, r.direction, failed))
    return out


def check_releasable(model: str, metrics: dict[str, Any], thresholds: dict[str, Any] | None = None) -> list[Check]:
    """The checks, all passed; otherwise :class:`ReleaseRefused` naming the failing ones."""
    checks = privacy_checks(metrics, thresholds)
    bad = [c for c in checks if c.failed is not False]
    if bad:
        raise ReleaseRefused(
            f"'{model}' is not released: {len(bad)} of {len(checks)} privacy checks fail "
            f"(thresholds: release.privacy_thresholds in params.yaml):\n  "
            + "\n  ".join(c.describe() for c in bad)
        )
    return checks


def summary(metrics: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    """The flat metrics grouped into the data card's fidelity / series / utility / privacy."""
    return {section: {k: metrics[k] for k in sorted(metrics) if k.startswith(prefixes)}
            for section, prefixes in SECTIONS.items()}


def measured_limits(metrics: dict[str, Any]) -> list[str]:
    """Limits read from this portfolio's own numbers."""
    out = []
    told = [f"{k} = {v:.2f}" for k in ("detection.lightgbm", "detection.logistic")
            if (v := _number(metrics, k)) is not None and v < 0.5]
    if told:
        out.append(f"A classifier tells these customers from real ones ({', '.join(told)}; "
                   "1 = indistinguishable): do not present them as real.")
    for key in sorted(k for k in metrics if k.startswith("utility.") and k.endswith(".tstr_ratio")):
        v = _number(metrics, key)
        if v is not None and v < 0.9:
            target = key.split(".")[1]
            out.append(f"A model of '{target}' trained on these customers reaches {v:.0%} of the "
                       "score of one trained on real customers (TSTR / TRTR).")
    missing = sorted(k for k, v in metrics.items() if v is None)
    if missing:
        out.append("Not measured on this portfolio: " + ", ".join(missing) + ".")
    return out


def build_datacard(
    model: str,
    generator: dict[str, Any],
    params: dict[str, Any],
    revisions: dict[str, Any],
    metrics: dict[str, Any],
    checks: list[Check],
    contents: dict[str, Any],
    extra_limits: list[str] | None = None,
) -> dict[str, Any]:
    """The data card as a JSON-ready dict (DATACARD.md is rendered from it)."""
    return {
        "release": model,
        "generator": generator,
        "params": params,
        "revisions": revisions,
        "contents": contents,
        "summary": summary(metrics),
        "privacy_checks": [
            {"check": c.name, "metric": c.metric, "value": c.value, "threshold": c.limit,
             "fails_when": c.direction, "passed": c.failed is False} for c in checks
        ],
        "known_limits": STANDING_LIMITS + measured_limits(metrics) + list(extra_limits or []),
    }


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "n/a" if v is None else str(v)


def datacard_markdown(card: dict[str, Any]) -> str:
    g, rev, c = card["generator"], card["revisions"], card["contents"]
    lines = [
        f"# Data card: synthetic portfolio `{card['release']}`",
        "",
        "Synthetic residential electricity customers (contract, dwelling, equipment, household) "
        "with their consumption series. **No row is a real customer**; the real data this was "
        "learnt from is not part of the release.",
        "",
        "## Contents",
        "",
        f"- {c['n_customers']:,} customers (`{CUSTOMERS_FILE}`), {c['n_consumption_rows']:,} "
        f"consumption readings (`{CONSUMPTION_FILE}`), schema (`{SCHEMA_FILE}`).",
        "- SHA-256: " + ", ".join(f"`{name}` {digest[:16]}…" for name, digest in c["sha256"].items()),
        "",
        "## Provenance",
        "",
        f"- Generator: `{g['name']}` with params `{json.dumps(g['params'], sort_keys=True)}`.",
        f"- Git commit: `{_fmt(rev.get('git_commit'))}`"
        + (" (with uncommitted changes)" if rev.get("git_dirty") else ""),
        f"- DVC {_fmt(rev.get('dvc_version'))}; `dvc.lock` hashes of the inputs and outputs of the "
        "model's train, sample and evaluate stages:",
        *[f"  - `{path}`: `{digest}`" for path, digest in sorted(rev.get("dvc_lock", {}).items())],
        "- Stage params (`params.yaml`, as recorded in `dvc.lock`):",
        *[f"  - `{key}`: `{json.dumps(value, sort_keys=True)}`" for key, value in sorted(card["params"].items())],
        "",
        "## Privacy checks (all passed)",
        "",
        "| check | metric | value | threshold | fails when |",
        "| --- | --- | --- | --- | --- |",
        *[f"| {x['check']} | `{x['metric']}` | {_fmt(x['value'])} | {_fmt(x['threshold'])} | {x['fails_when']} |"
          for x in card["privacy_checks"]],
        "",
    ]
    for section, values in card["summary"].items():
        if section == "privacy":
            continue
        lines += [f"## {section.capitalize()}", "", "| metric | value |", "| --- | --- |",
                  *[f"| `{k}` | {_fmt(v)} |" for k, v in values.items()], ""]
    lines += ["## Known limits", "", *[f"- {x}" for x in card["known_limits"]], "",
              "Every privacy metric is in `datacard.json` (`summary.privacy`); definitions in the "
              "acacia project's DESIGN.md, §4.", ""]
    return "\n".join(lines)


def write_release(synthetic_dir: Path, dest: Path, card: dict[str, Any]) -> None:
    """Copy the synthetic tables and write the data card into ``dest``, all or nothing."""
    missing = [n for n in RELEASED_FILES if not (synthetic_dir / n).is_file()]
    if missing:
        raise DataError(f"{synthetic_dir}: missing {missing}; run the sample stage first")
    with staged_dir(dest) as tmp:
        for name in RELEASED_FILES:
            shutil.copy2(synthetic_dir / name, tmp / name)
        (tmp / DATACARD_JSON).write_text(json.dumps(card, indent=2, sort_keys=True, default=str) + "\n")
        (tmp / DATACARD_MD).write_text(datacard_markdown(card))


def contents_of(synthetic_dir: Path) -> dict[str, Any]:
    customers = pd.read_parquet(synthetic_dir / CUSTOMERS_FILE, columns=[])
    consumption = pd.read_parquet(synthetic_dir / CONSUMPTION_FILE, columns=[])
    return {"n_customers": len(customers), "n_consumption_rows": len(consumption),
            "sha256": {n: file_digest(synthetic_dir / n) for n in RELEASED_FILES}}
