"""Stage ``study@<name>``: the study declared in ``studies.<name>`` (``usecases/studies.py``) on
the real train split, on every model's synthetic portfolio and on the representation ceiling
(``usecases/ceiling.py``) with the same code; the share of conclusions each model's portfolio
preserves feeds the meta-metric (``compare``)."""

from __future__ import annotations

import json
import sys
from typing import Any

import pandas as pd

from acacia.data.portfolio import Portfolio
from acacia.data.schema import atomic_write_text
from acacia.errors import ParamsError
from acacia.params import load_params
from acacia.paths import CALENDAR_FILE, PROCESSED, TEMPERATURE_FILE, USECASES, Reports
from acacia.stages.usecase import declared, load_inputs, not_applicable


def run(params_path: str, name: str) -> None:
    from acacia.usecases.ceiling import ceilings
    from acacia.usecases.studies import NoEstimate, compare_studies, config, write_study

    params = load_params(params_path)
    cfg = declared(params, "studies", name)
    confidence = config(cfg, name)["confidence"]  # a malformed declaration fails before any data is read
    real, sources = load_inputs(params)
    if real["train"].schema.series is None:
        atomic_write_text(USECASES / f"{name}.md", f"# Study: {name}\n\nNot applicable: the dataset has no consumption series.\n")
        return not_applicable(name, "the dataset has no consumption series")
    # beside the models: the real holdout round-tripped through their series representation
    sources.update(ceilings(real["train"], Portfolio.load(PROCESSED / "holdout"), params["train"]["models"]))
    weather = PROCESSED / TEMPERATURE_FILE
    temperature = pd.read_parquet(weather) if weather.is_file() else None
    days = PROCESSED / CALENDAR_FILE
    calendar = pd.read_parquet(days) if days.is_file() else None
    try:
        table, metrics = compare_studies(real["train"], sources, cfg, temperature, name, calendar)
    except NoEstimate as e:
        atomic_write_text(USECASES / f"{name}.md", f"# Study: {name}\n\nNot applicable: {e}.\n")
        return not_applicable(name, str(e))
    write_study(Reports(), name, table, metrics, confidence)


def study_metrics(model: str, names: list[str]) -> dict[str, float]:
    """``study.<name>.conclusions_preserved`` of ``model`` from every study of ``names`` that ran
    (a study not applicable to the dataset has no such key), for the meta-metric (compare)."""
    out = {}
    for name in names:
        path = USECASES / f"{name}.json"
        value = json.loads(path.read_text()).get(f"{model}.conclusions_preserved") if path.exists() else None
        if value is not None:
            out[f"study.{name}.conclusions_preserved"] = value
    return out


def study_names(params: dict[str, Any]) -> list[str]:
    """The studies declared in params.yaml."""
    studies = params.get("studies") or {}
    if not isinstance(studies, dict):
        raise ParamsError(f"studies: expected a mapping of study names to declarations, got {studies!r}")
    return list(studies)


if __name__ == "__main__":
    run(*sys.argv[1:])
