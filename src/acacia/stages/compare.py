"""Stage ``compare``: rank every evaluated model into reports/benchmark.md."""

from __future__ import annotations

import json
import sys

import pandas as pd

from acacia.data.schema import atomic_write_text
from acacia.errors import DataError
from acacia.evaluation import plots
from acacia.evaluation.ranking import HEADLINE, rank_models
from acacia.params import get, load_params
from acacia.paths import BENCHMARK, FIGURES, METRICS, SAMPLE_METRICS, TRAIN_METRICS


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
                     **_read(SAMPLE_METRICS / f"{m}.json")})
    table = rank_models(pd.DataFrame(rows), get(params, "compare", dict, default={}) or {})
    atomic_write_text(BENCHMARK, _markdown(table))
    plots.ranking_figure(table, [c for c, _ in HEADLINE if c in table], FIGURES / "ranking.png")


def _markdown(table: pd.DataFrame) -> str:
    cols = ["rank", "model", "score"] + [c for c, _ in HEADLINE if c in table]
    cols += [c for c in ("train_seconds", "sample_seconds") if c in table]
    lines = [
        "# Benchmark",
        "",
        "Models ranked by `score`, the mean of the headline metrics below, each in [0, 1] with 1 best",
        "(a provisional summary until the meta-metric lands). `holdout` is real data the",
        "generators never saw: the ceiling for fidelity and utility, and the reference for privacy.",
        "",
        "![ranking](figures/ranking.png)",
        "",
        "| " + " | ".join(cols) + " |",
        "| " + " | ".join("---" for _ in cols) + " |",
    ]
    for _, r in table.iterrows():
        cells = []
        for c in cols:
            v = r.get(c)
            cells.append(f"{v:.3f}" if isinstance(v, float) else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Columns:"]
    lines += [f"- `{c}`: {desc}" for c, desc in HEADLINE if c in table]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    run(*sys.argv[1:])
