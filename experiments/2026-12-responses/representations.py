"""Compressed vs responses series representation, on the same budget: their representation
ceilings and a fast generator (the Gaussian copula) on each, studied with the declared study.

    .venv/bin/python experiments/2026-12-responses/representations.py            # default portfolio
    .venv/bin/python experiments/2026-12-responses/representations.py --lcl DIR  # DIR: a prepared LCL project

Reads the prepared splits of a project (``data/processed`` after ``dvc repro prepare``) and its
params.yaml (the study and the ``series.responses`` representation); writes
``<portfolio>.md`` and ``<portfolio>.csv`` beside this file.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from acacia.data.portfolio import Portfolio
from acacia.models import make_model
from acacia.params import load_params
from acacia.usecases.ceiling import ceiling_portfolio
from acacia.usecases.studies import compare_studies

HERE = Path(__file__).parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--project", default=".", help="project folder with data/processed and params.yaml")
    ap.add_argument("--name", default="default")
    ap.add_argument("--models", nargs="*", default=["gaussian_copula"])
    args = ap.parse_args()
    root = Path(args.project)
    params = load_params(root / "params.yaml")
    study_name, study = next(iter(params["studies"].items()))
    processed = root / "data" / "processed"
    train = Portfolio.load(processed / "train", as_matrix=True)
    holdout = Portfolio.load(processed / "holdout")
    read = lambda f: pd.read_parquet(processed / f) if (processed / f).is_file() else None  # noqa: E731
    temperature, calendar = read("temperature.parquet"), read("calendar.parquet")
    responses = dict(params["series"]["responses"])
    for key in ("temperature", "calendar"):  # paths are relative to the project
        if responses.get(key):
            responses[key] = str(root / responses[key])
    specs = {"compressed": "compressed", "responses": responses}
    sources: dict[str, Portfolio] = {"holdout": holdout}
    timing = []
    for label, spec in specs.items():
        t0 = time.perf_counter()
        sources[f"ceiling_{label}"] = ceiling_portfolio(train, holdout, spec)
        timing.append((f"ceiling_{label}", time.perf_counter() - t0))
        for model in args.models:
            t0 = time.perf_counter()
            fitted = make_model(model, {"seed": 0, "series_representation": spec}).fit(train)
            sources[f"{model}_{label}"] = fitted.sample(len(train), seed=1)
            timing.append((f"{model}_{label}", time.perf_counter() - t0))
    table, metrics = compare_studies(train, sources, study, temperature, study_name, calendar)
    table.to_csv(HERE / f"{args.name}.csv", index=False)
    wide = table.pivot_table(index="estimate", columns="source", values="value", sort=False)
    kept = table[table.source != "real"].pivot_table(index="estimate", columns="source", values="preserved", sort=False)
    cells = wide.copy().astype(object)
    for col in kept.columns:
        cells[col] = [f"{v:.4g} {'✓' if k == 1 else '✗'}" for v, k in zip(wide[col], kept[col], strict=True)]
    cells["real"] = wide["real"].map(lambda v: f"{v:.4g}")
    real = table[table.source == "real"].set_index("estimate")
    cells["real"] = [f"{v:.4g} [{lo:.3g}, {hi:.3g}]" for v, lo, hi in zip(real.value, real.lo, real.hi, strict=True)]
    order = ["real", *sources]
    lines = [f"# Series representations on the {args.name} portfolio: `{study_name}` study",
             "", f"Produced by `experiments/2026-12-responses/representations.py --name {args.name}` "
             f"(train split {len(train)} customers, holdout {len(holdout)}); the real column is the train split with its "
             f"{int(study.get('confidence', 0.95) * 100)} % interval, ✓ = same conclusion (overlapping interval, same sign).",
             "`ceiling_<r>` = the holdout's series encoded and decoded by representation r fitted on train; "
             "`<model>_<r>` = that model trained on train with r and sampled (as many customers, seed 1).", "",
             "| source | conclusions preserved | seconds |", "| --- | --- | --- |"]
    seconds = dict(timing)
    for s in sources:
        lines.append(f"| {s} | {metrics[f'{s}.conclusions_preserved']:.3f} | {seconds.get(s, float('nan')):.1f} |")
    lines += ["", "| estimate | " + " | ".join(order) + " |", "| --- " * (len(order) + 1) + "|"]
    for est, row in cells[order].iterrows():
        lines.append(f"| {est} | " + " | ".join(str(row[c]) for c in order) + " |")
    (HERE / f"{args.name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:12 + len(sources)]))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
