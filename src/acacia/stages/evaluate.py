"""Stage ``evaluate@<model>``: score a synthetic portfolio against the real splits."""

from __future__ import annotations

import sys

import pandas as pd

from acacia.data.portfolio import Portfolio
from acacia.evaluation.evaluate import evaluate
from acacia.evaluation.outputs import PLOT_TABLES, draw_figures, write_evaluation
from acacia.params import get, load_params
from acacia.paths import (
    MODELS,
    PROCESSED,
    SPLITS,
    SYNTHETIC,
    TEMPERATURE_FILE,
    Reports,
    saved_fit_split,
)

__all__ = ["PLOT_TABLES", "draw_figures", "run"]


def run(params_path: str, model: str) -> None:
    params = load_params(params_path)
    cfg = get(params, "evaluate", dict)
    # The evaluation reads series as matrices only: loading them so keeps the long tables out of
    # memory (a million weekly customers would not fit otherwise).
    real = {name: Portfolio.load(PROCESSED / name, as_matrix=True) for name in SPLITS}
    synthetic = Portfolio.load(SYNTHETIC / model, schema=real["train"].schema, as_matrix=True)
    is_holdout = saved_fit_split(MODELS / model) == "holdout"
    weather = PROCESSED / TEMPERATURE_FILE
    temperature = pd.read_parquet(weather) if weather.is_file() else None
    metrics, plot_data = evaluate(real["train"], real["holdout"], real["test"], synthetic, cfg,
                                  synthetic_is_holdout=is_holdout, temperature=temperature)
    write_evaluation(Reports(), model, metrics, plot_data, real["train"], synthetic)


if __name__ == "__main__":
    run(*sys.argv[1:])
