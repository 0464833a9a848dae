"""What the evaluate and compare stages write, into any report folder (:class:`Reports`): the
pipeline's ``reports/`` and ``acacia report``'s ``--out`` get the same files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from acacia.data.portfolio import Portfolio
from acacia.data.schema import atomic_write_text
from acacia.evaluation import plots
from acacia.evaluation.metametric import PILLARS, meta_metric
from acacia.evaluation.ranking import HEADLINE, add_headline_columns
from acacia.evaluation.report_html import render_report
from acacia.evaluation.verdict import privacy_verdicts
from acacia.paths import Reports, staged_dir, write_json

PLOT_TABLES = ("shapes", "profile", "dcr", "anonymeter", "bands", "conditional", "marginals", "pairs",
               "projection")


def write_evaluation(reports: Reports, model: str, metrics: dict[str, float | None],
                     plot_data: dict[str, pd.DataFrame], train: Portfolio, synthetic: Portfolio) -> None:
    """One model's metrics JSON, plot tables and figures (what ``evaluate@<model>`` writes)."""
    for name in PLOT_TABLES:
        # Every declared plot file is written, empty when a dataset has no series, so the
        # outputs dvc.yaml lists always exist.
        table = plot_data.get(name, pd.DataFrame())
        atomic_write_text(reports.plots / model / f"{name}.csv", table.to_csv(index=False))
    with staged_dir(reports.figures / model) as tmp:
        draw_figures(plot_data, train, synthetic, model, tmp)
    write_json(reports.metrics / f"{model}.json", metrics)


def draw_figures(plot_data: dict[str, pd.DataFrame], train: Portfolio, synthetic: Portfolio, model: str,
                 folder: Path) -> None:
    """The per-model PNGs (``reports/figures/<model>/``) from evaluate's plot tables."""
    plots.shapes_figure(plot_data["shapes"], model, folder / "shapes.png")
    plots.marginals_figure(plot_data["marginals"], model, folder / "marginals.png")
    plots.pairs_figure(plot_data["pairs"], model, folder / "pairs.png")
    plots.projection_figure(plot_data["projection"], model, folder / "projection.png")
    if "profile" in plot_data:
        plots.profile_figure(plot_data["profile"], model, folder / "profile.png")
    if "dcr" in plot_data:
        plots.dcr_figure(plot_data["dcr"], model, folder / "dcr.png")
    if len(plot_data.get("bands", ())):
        plots.bands_figure(plot_data["bands"], model, folder / "series_bands.png")
        plots.curves_figure(train, synthetic, model, folder / "series_curves.png")


def write_benchmark(reports: Reports, rows: list[dict[str, Any]], cfg: dict[str, Any] | None,
                    title: str = "acacia benchmark",
                    study_ceilings: dict[str, float | None] | None = None) -> pd.DataFrame:
    """The ranked table of every model's flat metrics (``rows``: one dict per model with a
    ``model`` key), its Markdown, figures, plot data and offline HTML page (what ``compare``
    writes); returns the table. ``study_ceilings``: each study's representation ceiling, shown
    beside the models' shares of conclusions kept."""
    cfg = cfg or {}
    table = add_headline_columns(meta_metric(pd.DataFrame(rows), cfg.get("weights")))
    table = table.merge(privacy_verdicts(table, cfg.get("privacy_thresholds")), on="model", how="left")
    pillars = [f"pillar.{p}" for p in PILLARS if f"pillar.{p}" in table]
    atomic_write_text(reports.plots / "pillars.csv", table[["model", "overall", *pillars]].round(4).to_csv(index=False))
    atomic_write_text(reports.benchmark, benchmark_markdown(table, pillars, study_ceilings))
    plots.ranking_figure(table, ["overall", *pillars], reports.figures / "ranking.png")
    plots.pareto_figure(table, reports.figures / "pareto.png")
    metric_prefixes = ("fidelity.", "series.", "detection.", "utility.", "privacy.", "study.")
    detail = [c for c in table.columns if c.startswith(metric_prefixes) and c != "privacy.verdict"]
    atomic_write_text(reports.html, render_report(
        table, reports.figures, list(table["model"]), ["rank", "model", "overall", *pillars, "privacy.verdict"],
        detail, title=title, study_ceilings=study_ceilings))
    return table


def benchmark_markdown(table: pd.DataFrame, pillars: list[str],
                       study_ceilings: dict[str, float | None] | None = None) -> str:
    # studies first: the share of each study's conclusions kept, beside overall
    studies = [c for c in table.columns if c.startswith("study.") and c.endswith(".conclusions_preserved")]
    cols = ["rank", "model", "overall", *studies, *pillars] + [c for c, _ in HEADLINE if c in table]
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
    known = {k: v for k, v in (study_ceilings or {}).items() if v is not None}
    if known:
        lines += ["", "Representation ceiling of each study (not ranked: the real holdout with its series encoded",
                  "and decoded by the models' representation, `reports/usecases/`): "
                  + ", ".join(f"{k} {v:.3f}" for k, v in known.items()) + "."]
    lines += ["", "These are one training run per model. Retrained with other seeds on the same data, a neural",
              "model's numbers move: `reports/training_seeds.md` gives the spread of the headline numbers",
              "(`benchmarks/training_seeds.py`, run by hand); compare two models by more than that spread."]
    if "privacy.verdict" in table:
        lines += ["", "Privacy verdict per model (thresholds: `src/acacia/evaluation/verdict.py`, the full",
                  "pictures and tables: `reports/index.html`):", ""]
        lines += [f"- `{r['model']}`: {r['privacy.verdict']}" for _, r in table.iterrows()]
    lines += ["", "Columns:"]
    lines += [f"- `{p}`: mean of the rescaled metrics of the {p.split('.')[1]} pillar" for p in pillars]
    lines += [f"- `{c}`: share of the study's conclusions the portfolio keeps (reports/usecases/)" for c in studies]
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
