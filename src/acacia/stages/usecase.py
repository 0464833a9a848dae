"""Stage ``usecase@<name>``: run a downstream use case on the real data and on every model's
synthetic portfolio (``heating_detection``, ``financial_ease``; ../shared/DESIGN.md §1)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pandas as pd

from acacia.data.portfolio import Portfolio
from acacia.data.schema import atomic_write_text
from acacia.errors import ParamsError
from acacia.params import get, load_params
from acacia.paths import FIGURES, PLOTS, PROCESSED, SYNTHETIC, USECASES, write_json

USECASE_NAMES = ("heating_detection", "financial_ease")


def load_inputs(params: dict[str, Any]) -> tuple[dict[str, Portfolio], dict[str, Portfolio]]:
    """The real splits and the synthetic portfolio of every model in ``train.models``."""
    real = {name: Portfolio.load(PROCESSED / name) for name in ("train", "test")}
    models = list(get(params, "train.models", dict))
    sources = {m: Portfolio.load(SYNTHETIC / m, schema=real["train"].schema) for m in models}
    return real, sources


def write_csv(path: Path, table: pd.DataFrame) -> None:
    atomic_write_text(path, table.to_csv(index=False))


def not_applicable(name: str, reason: str, folder: Path | None = None) -> None:
    """The declared outputs of a use case or study the dataset cannot support (Adult has no
    consumption series): an empty plot table, a figure saying why, ``applicable: 0``."""
    from acacia.usecases import figures

    print(f"acacia: {name} skipped: {reason}", file=sys.stderr)
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    write_csv(PLOTS / "usecases" / f"{name}.csv", pd.DataFrame())
    figures.note_figure(f"{name}: not applicable ({reason})", FIGURES / "usecases" / f"{name}.png")
    write_json(USECASES / f"{name}.json", {"applicable": 0.0})


def run(params_path: str, name: str) -> None:
    if name not in USECASE_NAMES:
        raise ParamsError(f"usecase '{name}': expected one of {list(USECASE_NAMES)}")
    params = load_params(params_path)
    cfg = get(params, f"usecases.{name}", dict, default={}) or {}
    real, sources = load_inputs(params)
    from acacia.usecases import figures

    schema = real["train"].schema
    target = cfg.get("target", "financial_ease")
    if name == "heating_detection" and schema.series is None:
        return not_applicable(name, "the dataset has no consumption series", USECASES / name)
    if name == "financial_ease" and target not in schema.names:
        return not_applicable(name, f"the dataset has no column '{target}'", USECASES / name)
    if name == "heating_detection":
        from acacia.usecases.heating_detection import learning_curve, summarise

        curve = learning_curve(real["train"], real["test"], sources, cfg)
        agg, metrics = summarise(curve)
        write_csv(USECASES / name / "auc_per_repeat.csv", curve)
        write_csv(PLOTS / "usecases" / f"{name}.csv", agg)
        figures.learning_curve_figure(agg, FIGURES / "usecases" / f"{name}.png")
    else:
        from acacia.usecases.financial_ease import score

        metrics, calibration, importance = score(real["train"], real["test"], sources, cfg)
        write_csv(USECASES / name / "importance.csv", importance)
        write_csv(PLOTS / "usecases" / f"{name}.csv", calibration)
        figures.calibration_figure(calibration, FIGURES / "usecases" / f"{name}.png")
    write_json(USECASES / f"{name}.json", metrics)


if __name__ == "__main__":
    run(*sys.argv[1:])
