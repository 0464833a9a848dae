"""How much does retraining move a model's headline numbers? → reports/training_seeds.md

    .venv/bin/python benchmarks/training_seeds.py --models tabddpm tabdiff --seeds 1 2

Run by hand from the project root after ``dvc repro`` (never in the test suite). For each model,
the pipeline's own run (``train.models.<model>.seed``, its reports/metrics and study JSON) is one
row; every ``--seeds`` value fits the model again on the train split with that seed (everything
else as in params.yaml), draws as many customers as the train split at ``sample.seed`` and scores
them with the evaluate stage's function and the declared studies, as the pipeline would. One JSON
per (model, seed) lands in reports/training_seeds/ (a seed measured again replaces its row); the
report gives each headline number per seed and as mean ± standard deviation [min, max].
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "reports" / "training_seeds"
REPORT = ROOT / "reports" / "training_seeds.md"
#: headline numbers: (key, header); study keys are filled from every declared study
METRICS = {"detection.lightgbm_unseen": "detection LightGBM, unseen", "detection.lightgbm": "detection LightGBM",
           "detection.logistic_unseen": "detection logistic, unseen", "fidelity.shape_mean_unseen": "Shape, unseen",
           "privacy.dcr_share": "DCR share"}


def _commit() -> str:
    out = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


def pipeline_row(model: str, params: dict) -> dict:
    """The pipeline's own numbers for ``model`` (its committed reports)."""
    metrics = json.loads((ROOT / "reports" / "metrics" / f"{model}.json").read_text())
    row = {"model": model, "seed": (params["train"]["models"][model] or {}).get("seed", 0), "source": "dvc repro",
           **{k: metrics.get(k) for k in METRICS}}
    for name in params.get("studies") or {}:
        study = json.loads((ROOT / "reports" / "usecases" / f"{name}.json").read_text())
        row[f"study.{name}"] = study.get(f"{model}.conclusions_preserved")
    return row


def retrained_row(model_name: str, seed: int, params: dict) -> dict:
    from acacia.data.portfolio import Portfolio
    from acacia.evaluation.evaluate import evaluate
    from acacia.models import make_model
    from acacia.paths import CALENDAR_FILE, PROCESSED, SPLITS, TEMPERATURE_FILE
    from acacia.usecases.studies import compare_studies

    real = {name: Portfolio.load(ROOT / PROCESSED / name) for name in SPLITS}
    tables = {f: pd.read_parquet(ROOT / PROCESSED / f) if (ROOT / PROCESSED / f).is_file() else None
              for f in (TEMPERATURE_FILE, CALENDAR_FILE)}
    model = make_model(model_name, {**(params["train"]["models"][model_name] or {}), "seed": seed})
    t = time.perf_counter()
    model.fit(Portfolio.load(ROOT / PROCESSED / model.fit_split, as_matrix=True))
    fit_seconds = time.perf_counter() - t
    syn = model.sample(len(real["train"]), seed=params["sample"]["seed"])
    metrics, _ = evaluate(real["train"], real["holdout"], real["test"], syn, params.get("evaluate"),
                          temperature=tables[TEMPERATURE_FILE])
    result = getattr(model, "training_result_", None)
    row = {"model": model_name, "seed": seed, "source": "retrained", "fit_seconds": round(fit_seconds, 1),
           "best_epoch": result.best_epoch if result else None, **{k: metrics.get(k) for k in METRICS}}
    for name, cfg in (params.get("studies") or {}).items():
        _, study = compare_studies(real["train"], {model_name: syn}, cfg, tables[TEMPERATURE_FILE], name,
                                   tables[CALENDAR_FILE])
        row[f"study.{name}"] = study[f"{model_name}.conclusions_preserved"]
    return row


def render(params: dict) -> None:
    rows = [json.loads(p.read_text()) for p in sorted(OUT.glob("*.json"))]
    keys = [*METRICS, *(f"study.{n}" for n in params.get("studies") or {})]
    names = {**METRICS, **{f"study.{n}": f"{n}: conclusions preserved" for n in params.get("studies") or {}}}
    lines = ["# Training seeds: how much a rerun moves the headline numbers", "",
             "Produced by `benchmarks/training_seeds.py` (its docstring): the `dvc repro` row is the pipeline's own "
             "model (reports/metrics, reports/usecases); each other seed is the same model and params trained "
             "again with that seed, sampled at `sample.seed` and scored with the evaluate stage's function and "
             "the declared studies. The spread is the rerun-to-rerun movement of a number "
             "(a fresh clone's `dvc repro` gives other floats for every neural model).", ""]
    for model in dict.fromkeys(r["model"] for r in rows):
        df = pd.DataFrame([r for r in rows if r["model"] == model])
        commits = ", ".join(sorted({r.get("commit", "?") for r in rows if r["model"] == model}))
        lines += [f"## {model}", "", f"Rows measured at {commits}.", "",
                  "| seed | source | " + " | ".join(names[k] for k in keys) + " |",
                  "| --- | --- | " + " | ".join("---:" for _ in keys) + " |"]
        for _, r in df.sort_values("seed").iterrows():
            lines.append(f"| {r['seed']} | {r['source']} | " + " | ".join(
                f"{r[k]:.3f}" if k in r and pd.notna(r[k]) else "–" for k in keys) + " |")
        cells = []
        for k in keys:
            v = pd.to_numeric(df.get(k), errors="coerce").dropna() if k in df else pd.Series(dtype=float)
            cells.append(f"{v.mean():.3f} ± {v.std(ddof=1) if len(v) > 1 else 0:.3f} [{v.min():.3f}, {v.max():.3f}]"
                         if len(v) else "–")
        lines += [f"| all {len(df)} | mean ± sd [min, max] | " + " | ".join(cells) + " |", ""]
    tmp = REPORT.with_suffix(".md.tmp")
    tmp.write_text("\n".join(lines))
    os.replace(tmp, REPORT)


def main() -> None:
    from acacia.params import load_params

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=["tabdiff"])
    ap.add_argument("--seeds", nargs="*", type=int, default=[1, 2])
    ap.add_argument("--render-only", action="store_true")
    ap.add_argument("--pipeline-only", action="store_true",
                    help="only (re)write the dvc repro rows, from the current reports (after a new dvc repro)")
    args = ap.parse_args()
    params = load_params(str(ROOT / "params.yaml"))
    OUT.mkdir(parents=True, exist_ok=True)
    if not args.render_only:
        commit = _commit()
        for model in args.models:
            seeds = [] if args.pipeline_only else args.seeds
            rows = [pipeline_row(model, params), *(retrained_row(model, s, params) for s in seeds)]
            for row in rows:
                row.update(commit=commit, measured=time.strftime("%Y-%m-%d"))
                (OUT / f"{model}__{row['seed']}.json").write_text(json.dumps(row, indent=1, default=str))
                print(row, flush=True)
    render(params)


if __name__ == "__main__":
    main()
