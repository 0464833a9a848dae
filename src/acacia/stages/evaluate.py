"""Stage ``evaluate@<model>``: score a synthetic portfolio against the real splits."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from acacia.data.portfolio import Portfolio
from acacia.data.schema import atomic_write_text
from acacia.evaluation import plots
from acacia.evaluation.evaluate import evaluate
from acacia.models import Synthesizer
from acacia.params import get, load_params
from acacia.paths import (
    FIGURES,
    METRICS,
    MODELS,
    PLOTS,
    PROCESSED,
    SPLITS,
    SYNTHETIC,
    TEMPERATURE_FILE,
    staged_dir,
    write_json,
)

PLOT_TABLES = ("shapes", "profile", "dcr", "anonymeter", "bands", "conditional", "marginals", "pairs",
               "projection")


def run(params_path: str, model: str) -> None:
    params = load_params(params_path)
    cfg = get(params, "evaluate", dict)
    # The evaluation reads series as matrices only: loading them so keeps the long tables out of
    # memory (a million weekly customers would not fit otherwise).
    real = {name: Portfolio.load(PROCESSED / name, as_matrix=True) for name in SPLITS}
    synthetic = Portfolio.load(SYNTHETIC / model, schema=real["train"].schema, as_matrix=True)
    is_holdout = Synthesizer.load(MODELS / model).fit_split == "holdout"
    weather = PROCESSED / TEMPERATURE_FILE
    temperature = pd.read_parquet(weather) if weather.is_file() else None
    metrics, plot_data = evaluate(real["train"], real["holdout"], real["test"], synthetic, cfg,
                                  synthetic_is_holdout=is_holdout, temperature=temperature)
    for name in PLOT_TABLES:
        # Every declared plot file is written, empty when a dataset has no series, so the
        # outputs dvc.yaml lists always exist.
        table = plot_data.get(name, pd.DataFrame())
        atomic_write_text(PLOTS / model / f"{name}.csv", table.to_csv(index=False))
    with staged_dir(FIGURES / model) as tmp:
        draw_figures(plot_data, real["train"], synthetic, model, tmp)
    write_json(METRICS / f"{model}.json", metrics)


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


if __name__ == "__main__":
    run(*sys.argv[1:])
