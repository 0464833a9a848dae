"""Stage ``evaluate@<model>``: score a synthetic portfolio against the real splits."""

from __future__ import annotations

import sys

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

PLOT_TABLES = ("shapes", "profile", "dcr", "anonymeter", "bands", "conditional")


def run(params_path: str, model: str) -> None:
    params = load_params(params_path)
    cfg = get(params, "evaluate", dict)
    real = {name: Portfolio.load(PROCESSED / name) for name in SPLITS}
    synthetic = Portfolio.load(SYNTHETIC / model, schema=real["train"].schema)
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
        plots.shapes_figure(plot_data["shapes"], model, tmp / "shapes.png")
        if "profile" in plot_data:
            plots.profile_figure(plot_data["profile"], model, tmp / "profile.png")
        if "dcr" in plot_data:
            plots.dcr_figure(plot_data["dcr"], model, tmp / "dcr.png")
        if len(plot_data.get("bands", ())):
            plots.bands_figure(plot_data["bands"], model, tmp / "series_bands.png")
            plots.curves_figure(real["train"], synthetic, model, tmp / "series_curves.png")
    write_json(METRICS / f"{model}.json", metrics)


if __name__ == "__main__":
    run(*sys.argv[1:])
