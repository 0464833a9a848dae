"""How much of a gap between two generators is the luck of one sample, or of one training run?
→ seed_spread.md next to this script (run by hand from the project root after ``dvc repro``,
never in the test suite).

The evaluate stage scores one synthetic portfolio of one trained model per generator. This script
measures the two spreads hidden behind that one number, on the pipeline's own data, params and
evaluation (the evaluate stage's function and ``evaluate`` settings):

- sample seeds: the pipeline's trained model (``models/<model>``) draws one portfolio per
  ``--sample-seeds`` seed, as many customers as the train split;
- training seeds: the model is fitted again on the train split with ``seed`` set to each
  ``--train-seeds`` value (everything else as in params.yaml), then draws one portfolio with
  ``sample.seed``, as the pipeline would.

    OMP_NUM_THREADS=2 .venv/bin/python experiments/2026-12-detection/seed_spread.py \\
        --models gaussian_copula ctgan_variant tabdiff causal_diff_tab --sample-seeds 11 12 13
    OMP_NUM_THREADS=2 .venv/bin/python experiments/2026-12-detection/seed_spread.py --models tabdiff \\
        --train-seeds 1 2
    OMP_NUM_THREADS=2 .venv/bin/python experiments/2026-12-detection/seed_spread.py --models tabdiff \\
        --train-seeds 2 --training patience=1200   # another stopping rule: rows in a file and a line of their own
    .venv/bin/python experiments/2026-12-detection/seed_spread.py --render-only

One JSON per (model, kind) under seed_spread/ next to this script; a run adds its rows to what is
there (a seed measured again replaces its row; sample rows of a retrained model replace the earlier
model's), each row dated and stamped with the commit it ran at (``git describe --always --dirty``);
the report marks rows of an earlier pass and sample rows of a model no longer in models/ (a model
is named by the first digits of the SHA-256 of its saved files, :func:`acacia.runs.model_sha`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pandas as pd

from acacia.runs import TRAINING_KEYS, model_sha, parse_overrides, with_training

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT_DIR = HERE / "seed_spread"
REPORT = HERE / "seed_spread.md"
METRICS = {"fidelity.shape_mean": "Shape", "fidelity.shape_mean_unseen": "Shape, unseen", "fidelity.trend_mean": "Trend",
           "detection.lightgbm": "detection (LightGBM)", "detection.logistic": "detection (logistic)",
           "detection.logistic_unseen": "detection (logistic, unseen)",
           "fidelity.alpha_precision": "α-precision", "fidelity.beta_recall": "β-recall",
           "privacy.dcr_share": "DCR share"}


def _score(model: Any, seed: int, real: dict, params: dict, temperature: pd.DataFrame | None) -> dict[str, Any]:
    from acacia.evaluation.evaluate import evaluate

    t = time.perf_counter()
    syn = model.sample(len(real["train"]), seed=seed)
    sample_seconds = time.perf_counter() - t
    metrics, _ = evaluate(real["train"], real["holdout"], real["test"], syn, params.get("evaluate"),
                          temperature=temperature)
    return {"sample_seed": seed, "sample_seconds": round(sample_seconds, 1), **{k: metrics.get(k) for k in METRICS}}


def run(model_name: str, sample_seeds: list[int], train_seeds: list[int],
        training: dict[str, Any] | None = None, model_params: dict[str, Any] | None = None
        ) -> dict[str, list[dict]]:
    from acacia.data.portfolio import Portfolio
    from acacia.models import Synthesizer, make_model
    from acacia.params import load_params
    from acacia.paths import MODELS, PROCESSED, SPLITS, TEMPERATURE_FILE

    params = load_params(str(ROOT / "params.yaml"))
    real = {name: Portfolio.load(ROOT / PROCESSED / name) for name in SPLITS}
    weather = ROOT / PROCESSED / TEMPERATURE_FILE
    temperature = pd.read_parquet(weather) if weather.is_file() else None
    out: dict[str, list[dict]] = {"sample": [], "train": []}
    if sample_seeds:
        folder = ROOT / MODELS / model_name
        model = Synthesizer.load(folder)
        sha = model_sha(folder)
        for seed in sample_seeds:
            out["sample"].append({"model_sha": sha, "train_seed": model.seed, **_score(model, seed, real, params,
                                                                                       temperature)})
            print(model_name, out["sample"][-1], flush=True)
    for seed in train_seeds:
        spec = params["train"]["models"].get(model_name) or {}
        if training:
            spec = with_training(model_name, spec, **training)
        model = make_model(model_name, {**spec, **(model_params or {}), "seed": seed})
        t = time.perf_counter()
        model.fit(real[model.fit_split])
        fit_seconds = time.perf_counter() - t
        result = getattr(model, "training_result_", None)
        row = {"train_seed": seed, "fit_seconds": round(fit_seconds, 1),
               "best_epoch": result.best_epoch if result else None,
               "stopped_epoch": result.stopped_epoch if result else None,
               # the stopping rule it ran under, since a rerun with other params replaces the row
               "stopping": {k: getattr(model.train_config, k) for k in ("patience", "patience_unit", "min_delta")}
               if hasattr(model, "train_config") else None,
               **_score(model, params["sample"]["seed"], real, params, temperature)}
        out["train"].append(row)
        print(model_name, row, flush=True)
    return out


def _commit() -> str | None:
    """The commit the working tree is at (suffixed -dirty when it has changes), None without git."""
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
                             text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def _cells(df: pd.DataFrame) -> list[str]:
    """Mean ± standard deviation [min, max] per metric over the rows that have it (a metric added
    later is missing from older rows: "–" when none has it, its row count when only some do)."""
    cells = []
    for k in METRICS:
        v = pd.to_numeric(df[k], errors="coerce").dropna() if k in df else pd.Series(dtype=float)
        if not len(v):
            cells.append("–")
            continue
        sd = v.std(ddof=1) if len(v) > 1 else 0.0
        part = f" ({len(v)} of {len(df)} rows)" if len(v) < len(df) else ""
        cells.append(f"{v.mean():.4f} ± {sd:.4f} [{v.min():.4f}, {v.max():.4f}]{part}")
    return cells


def render() -> None:
    lines = [
        "# Seed spread of the evaluate stage's numbers",
        "",
        "Generated by `experiments/2026-12-detection/seed_spread.py` (see its docstring), on the default portfolio with the "
        "evaluate stage's function and settings. *sample seeds*: the pipeline's trained model "
        "(`models/<model>`, file named by the first digits of its SHA-256) draws one portfolio per seed. "
        "*training seeds*: the model fitted again with `seed` = each value, one portfolio at `sample.seed`. "
        "Cells: mean ± standard deviation [min, max]. Rows record their commit from 4ae5a49 on; those at an "
        "unrecorded commit ran before it, with the compressed series decoded by one AR(1) noise instead of "
        "the residuals' period covariance (every compressed model's series changed at 4ae5a49).",
        "",
        "| model | spread over | seeds | " + " | ".join(METRICS.values()) + " |",
        "| --- | --- | --- | " + " | ".join("---" for _ in METRICS) + " |",
    ]
    for path in sorted(OUT_DIR.glob("*.json")):
        record = json.loads(path.read_text())
        df = pd.DataFrame(record["rows"])
        dated = df["measured"].dropna() if "measured" in df else pd.Series(dtype=object)
        commits = df["commit"].dropna() if "commit" in df else pd.Series(dtype=object)
        if not len(commits):
            at = " at an unrecorded commit"
        else:
            at = f" at {', '.join(sorted(set(commits)))}"
            if len(commits) < len(dated):
                at += "; other rows at an unrecorded commit"
        when = [f"measured {', '.join(sorted(set(dated)))}{at}"] if len(dated) else []
        if len(dated) < len(df):
            when.append("an earlier pass")
        when = " and ".join(when)
        if record["kind"] == "sample":
            shas = sorted(set(df["model_sha"]))
            stale = model_sha(ROOT / "models" / record["model"]) not in shas
            over = (f"sample seeds (model {', '.join(shas)}{', not the current models/' + record['model'] if stale else ''};"
                    f" {when})")
            seeds = ", ".join(str(s) for s in df["sample_seed"])
        else:
            over = f"training seeds ({when})"
            seeds = ", ".join(f"{s} (best epoch {b})" if pd.notna(b) else str(s)
                              for s, b in zip(df["train_seed"], df["best_epoch"], strict=True))
        lines.append(f"| {record['model']} | {over} | {seeds} | " + " | ".join(_cells(df)) + " |")
    tmp = REPORT.with_suffix(".md.tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, REPORT)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=["gaussian_copula", "tabdiff"],
                    help="keys of params.yaml's train.models (e.g. ctgan_variant, causal_diff_tab)")
    ap.add_argument("--sample-seeds", nargs="*", type=int, default=[])
    ap.add_argument("--train-seeds", nargs="*", type=int, default=[])
    ap.add_argument("--training", nargs="*", default=[], metavar="KEY=VALUE",
                    help="training-loop params overridden for --train-seeds (rows go to a file of their own)")
    ap.add_argument("--param", nargs="*", default=[], metavar="KEY=VALUE",
                    help="the model's other params overridden for --train-seeds (likewise)")
    ap.add_argument("--render-only", action="store_true")
    args = ap.parse_args()
    try:
        training = parse_overrides(args.training)
        model_params = parse_overrides(args.param)
    except ValueError as e:
        ap.error(f"--training / --param: {e}")
    clash = sorted(set(model_params) & {"seed", *TRAINING_KEYS})
    if clash:
        ap.error(f"--param {', '.join(clash)}: use --train-seeds for the seed and --training for the training loop")
    if (training or model_params) and args.sample_seeds:
        ap.error("--training and --param apply to --train-seeds only")
    overrides = {**model_params, **training}
    variant = "".join(f"_{k}{v}" for k, v in sorted(overrides.items()))
    if not args.render_only:
        if not args.sample_seeds and not args.train_seeds:
            ap.error("give --sample-seeds, --train-seeds or both")
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        for name in args.models:
            if args.sample_seeds and model_sha(ROOT / "models" / name) is None:
                ap.error(f"--models: no trained model in models/{name}; run `dvc repro train@{name}` first")
            for kind, rows in run(name, args.sample_seeds, args.train_seeds, training, model_params).items():
                if not rows:
                    continue
                path = OUT_DIR / f"{name}_{kind}{variant}.json"
                old = json.loads(path.read_text())["rows"] if path.is_file() else []
                # A seed measured again (e.g. after a params change) replaces its earlier row, and
                # a retrained model's sample rows replace all of the earlier model's: the spread of
                # a mix of two models' draws would be neither's.
                key = ("train_seed",) if kind == "train" else ("sample_seed", "model_sha")
                fresh = {tuple(r.get(k) for k in key) for r in rows}
                old = [r for r in old if tuple(r.get(k) for k in key) not in fresh
                       and (kind == "train" or r.get("model_sha") == rows[0]["model_sha"])]
                today, commit = time.strftime("%Y-%m-%d"), _commit()
                rows = [{**r, "measured": today, "commit": commit} for r in rows]
                tmp = path.with_name(f".{path.name}.tmp")
                label = name + (" (" + ", ".join(f"{k} {v}" for k, v in sorted(overrides.items())) + ")" if overrides else "")
                tmp.write_text(json.dumps({"model": label, "kind": kind, "rows": old + rows}, indent=1,
                                          default=float) + "\n")
                os.replace(tmp, path)
    render()


if __name__ == "__main__":
    main()
