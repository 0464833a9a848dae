"""Stage ``compare``: rank every evaluated model into reports/benchmark.md."""

from __future__ import annotations

import json
import sys

import pandas as pd

from acacia.data.schema import atomic_write_text
from acacia.errors import DataError
from acacia.evaluation import plots
from acacia.evaluation.metametric import PILLARS, meta_metric
from acacia.evaluation.ranking import HEADLINE, add_headline_columns
from acacia.evaluation.report_html import render_report
from acacia.evaluation.verdict import privacy_verdicts
from acacia.params import get, load_params
from acacia.paths import (
    BENCHMARK,
    FIGURES,
    METRICS,
    PLOTS,
    REPORT_HTML,
    SAMPLE_METRICS,
    TRAIN_METRICS,
)
from acacia.stages.study import study_metrics


def _read(path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def run(params_path: str = "params.yaml") -> None:
    params = load_params(params_path)
    models = list(get(params, "train.models", dict))
    rows = []
    for m in models:
        path = METRICS / f"{m}.json"
        if not path.exists():
            raise DataError(f"{path} missing: run evaluate@{m} first (dvc repro)")
        rows.append({"model": m, **_read(path), **_read(TRAIN_METRICS / f"{m}.json"),
                     **_read(SAMPLE_METRICS / f"{m}.json"), **study_metrics(m)})
    cfg = get(params, "compare", dict, default={}) or {}
    table = add_headline_columns(meta_metric(pd.DataFrame(rows), cfg.get("weights")))
    table = table.merge(privacy_verdicts(table, cfg.get("privacy_thresholds")), on="model", how="left")
    pillars = [f"pillar.{p}" for p in PILLARS if f"pillar.{p}" in table]
    atomic_write_text(PLOTS / "pillars.csv", table[["model", "overall", *pillars]].round(4).to_csv(index=False))
    atomic_write_text(BENCHMARK, _markdown(table, pillars))
    plots.ranking_figure(table, ["overall", *pillars], FIGURES / "ranking.png")
    plots.pareto_figure(table, FIGURES / "pareto.png")
    metric_prefixes = ("fidelity.", "series.", "detection.", "utility.", "privacy.")
    detail = [c for c in table.columns if c.startswith(metric_prefixes) and c != "privacy.verdict"]
    atomic_write_text(REPORT_HTML, render_report(
        table, FIGURES, list(table["model"]), ["rank", "model", "overall", *pillars, "privacy.verdict"], detail))


def _markdown(table: pd.DataFrame, pillars: list[str]) -> str:
    cols = ["rank", "model", "overall", *pillars] + [c for c, _ in HEADLINE if c in table]
    cols += [c for c in ("privacy.flags",) if c in table]
    cost = ("train_seconds", "train_energy_kwh", "train_emissions_kg", "epochs_saved",
            "energy_saved_kwh", "sample_seconds", "sample_energy_kwh", "customers_per_second")
    cols += [c for c in cost if c in table]
    lines = [
        "# Benchmark",
        "",
        "Models ranked by `overall`, the meta-metric (`src/acacia/evaluation/metametric.py`): every",
        "metric rescaled to [0, 1] between a declared worst case (0) and the `holdout` reference (1:",
        "real customers the generators never saw), averaged into the pillars fidelity, series,",
        "utility and privacy, and the pillars combined by a weighted geometric mean (weights:",
        "`compare.weights` in params.yaml), so a generator that fails privacy cannot win on fidelity.",
        "",
        "![ranking](figures/ranking.png) ![fidelity vs privacy](figures/pareto.png)",
        "",
        "| " + " | ".join(cols) + " |",
        "| " + " | ".join("---" for _ in cols) + " |",
    ]
    for _, r in table.iterrows():
        cells = []
        for c in cols:
            v = r.get(c)
            if isinstance(v, float) and pd.isna(v):
                cells.append("")
            elif isinstance(v, float):
                cells.append(f"{v:.3g}" if abs(v) < 1e-3 and v != 0 else f"{v:.3f}")
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    if "privacy.verdict" in table:
        lines += ["", "Privacy verdict per model (thresholds: `src/acacia/evaluation/verdict.py`, the full",
                  "pictures and tables: `reports/index.html`):", ""]
        lines += [f"- `{r['model']}`: {r['privacy.verdict']}" for _, r in table.iterrows()]
    lines += ["", "Columns:"]
    lines += [f"- `{p}`: mean of the rescaled metrics of the {p.split('.')[1]} pillar" for p in pillars]
    lines += [f"- `{c}`: {desc}" for c, desc in HEADLINE if c in table]
    if "privacy.flags" in table:
        lines += ["- `privacy.flags`: how many privacy attacks flag the model (see the verdicts above)"]
    lines += [
        "- `*_seconds`, `*_energy_kwh`, `*_emissions_kg`: wall time, energy and carbon of the stage,",
        "  measured by codecarbon's offline tracker with France's grid intensity.",
        "- `epochs_saved`, `energy_saved_kwh`: epochs early stopping spared against the configured",
        "  maximum, and their energy at the measured energy per epoch.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    run(*sys.argv[1:])
