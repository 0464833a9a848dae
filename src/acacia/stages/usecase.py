"""Stage ``usecase@<name>``: run a downstream use case declared in ``usecases.<name>`` on the real
data and on every model's synthetic portfolio (../shared/DESIGN.md §1).

A use case's ``kind`` says which: ``heating_detection`` (pre-train a detector of a label on
synthetic series, fine-tune on real customers) or ``scoring`` (a LightGBM classifier of a band,
trained on synthetic vs real); the use cases named ``heating_detection`` and ``financial_ease``
need no ``kind``. A use case whose columns the dataset lacks is skipped with one printed line:
its declared outputs say why.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pandas as pd

from acacia.data.portfolio import Portfolio
from acacia.data.schema import Schema, atomic_write_text
from acacia.errors import ParamsError
from acacia.params import get, load_params
from acacia.paths import FIGURES, PLOTS, PROCESSED, SYNTHETIC, USECASES, write_json

KINDS = ("heating_detection", "scoring")
DEFAULT_KINDS = {"heating_detection": "heating_detection", "financial_ease": "scoring"}


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


def declared(params: dict[str, Any], section: str, name: str) -> dict[str, Any]:
    """``<section>.<name>`` of params.yaml (a mapping), or an error listing what is declared."""
    entries = get(params, section, dict, default={}) or {}
    if name not in entries:
        raise ParamsError(f"{section}.{name}: not declared in params.yaml ({section}: {sorted(entries)})")
    cfg = entries[name] or {}
    if not isinstance(cfg, dict):
        raise ParamsError(f"{section}.{name}: expected a mapping of settings, got {cfg!r}")
    return dict(cfg)


def missing_columns(cfg: dict[str, Any], kind: str, schema: Schema) -> str | None:
    """Why the dataset cannot run this use case (None: it can)."""
    from acacia.evaluation.features import SERIES_FEATURES

    if kind == "heating_detection":
        if schema.series is None:
            return "the dataset has no consumption series"
        label = cfg.get("label", "electric_heating")
        return None if label in schema.names else f"the dataset has no column '{label}'"
    target = cfg.get("target", "financial_ease")
    if target not in schema.names:
        return f"the dataset has no column '{target}'"
    known = set(schema.names) | (set(SERIES_FEATURES) if schema.series is not None else set())
    missing = [c for c in cfg.get("features") or [] if c not in known]
    return f"the dataset has no column(s) {missing}" if missing else None


def run(params_path: str, name: str) -> None:
    params = load_params(params_path)
    cfg = declared(params, "usecases", name)
    kind = cfg.pop("kind", DEFAULT_KINDS.get(name))
    if kind not in KINDS:
        raise ParamsError(f"usecases.{name}.kind: expected one of {list(KINDS)}, got {kind!r}")
    real, sources = load_inputs(params)
    from acacia.usecases import figures

    why = missing_columns(cfg, kind, real["train"].schema)
    if why:
        return not_applicable(name, why, USECASES / name)
    if kind == "heating_detection":
        from acacia.usecases.heating_detection import learning_curve, summarise

        curve = learning_curve(real["train"], real["test"], sources, cfg)
        agg, metrics = summarise(curve)
        write_csv(USECASES / name / "auc_per_repeat.csv", curve)
        write_csv(PLOTS / "usecases" / f"{name}.csv", agg)
        figures.learning_curve_figure(agg, FIGURES / "usecases" / f"{name}.png")
    else:
        from acacia.usecases.financial_ease import score

        metrics, calibration, importance = score(real["train"], real["test"], sources, cfg, f"usecases.{name}")
        write_csv(USECASES / name / "importance.csv", importance)
        write_csv(PLOTS / "usecases" / f"{name}.csv", calibration)
        figures.calibration_figure(calibration, FIGURES / "usecases" / f"{name}.png", title=name)
    write_json(USECASES / f"{name}.json", metrics)


if __name__ == "__main__":
    run(*sys.argv[1:])
