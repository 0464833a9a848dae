"""Stage ``study@<name>``: post-hoc studies on the real train split and on every model's
synthetic portfolio with the same code; the share of conclusions each portfolio preserves
feeds the meta-metric (``compare``)."""

from __future__ import annotations

import json
import sys

import pandas as pd

from acacia.data.schema import atomic_write_text
from acacia.errors import ParamsError
from acacia.params import get, load_params
from acacia.paths import FIGURES, PLOTS, PROCESSED, TEMPERATURE_FILE, USECASES, write_json
from acacia.stages.usecase import load_inputs, not_applicable, write_csv

STUDY_NAMES = ("longitudinal",)


def run(params_path: str, name: str) -> None:
    if name not in STUDY_NAMES:
        raise ParamsError(f"study '{name}': expected one of {list(STUDY_NAMES)}")
    from acacia.usecases import figures
    from acacia.usecases.longitudinal import compare_studies, side_by_side

    params = load_params(params_path)
    cfg = get(params, f"studies.{name}", dict, default={}) or {}
    real, sources = load_inputs(params)
    if real["train"].schema.series is None:
        atomic_write_text(USECASES / f"{name}.md", f"# Study: {name}\n\nNot applicable: the dataset has no consumption series.\n")
        return not_applicable(name, "the dataset has no consumption series")
    weather = PROCESSED / TEMPERATURE_FILE
    temperature = pd.read_parquet(weather) if weather.is_file() else None
    table, metrics = compare_studies(real["train"], sources, cfg, temperature)
    write_csv(PLOTS / "usecases" / f"{name}.csv", table)
    atomic_write_text(USECASES / f"{name}.md", f"# Study: {name}\n\n"
                      "Estimates with confidence intervals on the real train split and on each portfolio; "
                      "✓: the interval overlaps the real one and the conclusion has the same sign "
                      "(`src/acacia/usecases/longitudinal.py`).\n\n" + side_by_side(table))
    figures.estimates_figure(table, FIGURES / "usecases" / f"{name}.png")
    write_json(USECASES / f"{name}.json", metrics)


def study_metrics(model: str) -> dict[str, float]:
    """``study.<name>.conclusions_preserved`` of ``model`` from every study run so far, for the
    meta-metric's row of the model (compare)."""
    out = {}
    for name in STUDY_NAMES:
        path = USECASES / f"{name}.json"
        value = json.loads(path.read_text()).get(f"{model}.conclusions_preserved") if path.exists() else None
        if value is not None:
            out[f"study.{name}.conclusions_preserved"] = value
    return out


if __name__ == "__main__":
    run(*sys.argv[1:])
