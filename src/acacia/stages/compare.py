"""Stage ``compare``: rank every evaluated model into reports/benchmark.md and reports/index.html."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from acacia.errors import DataError
from acacia.evaluation.outputs import write_benchmark
from acacia.params import get, load_params
from acacia.paths import METRICS, SAMPLE_METRICS, TRAIN_METRICS, USECASES, Reports
from acacia.stages.study import study_metrics, study_names


def _read(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def run(params_path: str = "params.yaml") -> None:
    params = load_params(params_path)
    models = list(get(params, "train.models", dict))
    studies = study_names(params)
    rows = []
    for m in models:
        path = METRICS / f"{m}.json"
        if not path.exists():
            raise DataError(f"{path} missing: run evaluate@{m} first (dvc repro)")
        rows.append({"model": m, **_read(path), **_read(TRAIN_METRICS / f"{m}.json"),
                     **_read(SAMPLE_METRICS / f"{m}.json"), **study_metrics(m, studies)})
    # beside the models' shares, what their series representation allows at best (study stage)
    ceilings = {name: _read(USECASES / f"{name}.json").get("ceiling.conclusions_preserved") for name in studies}
    write_benchmark(Reports(), rows, get(params, "compare", dict, default={}), study_ceilings=ceilings)


if __name__ == "__main__":
    run(*sys.argv[1:])
