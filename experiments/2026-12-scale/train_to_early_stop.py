"""Training to early stop, measured end to end at scale (issue 10, item 3).

``benchmarks/performance.py`` times K optimiser steps and *projects* the time to early stop from
the pipeline's own run on 8,000 customers. That projection cannot know how many epochs a larger
training set needs: more rows mean more steps per epoch, so the validation loss usually settles
after fewer epochs. This script measures it instead: it simulates ``--n`` customers (weekly
series), fits one model on all of them with its ``train.models`` parameters of params.yaml (the
loop holds out its own validation share), to early stopping, and records the wall time, the
epochs and steps, codecarbon's energy and the peak memory; then it samples ``--quality-n``
customers from the fitted model and records their Shape / Trend against as many fitted ones, so
that a stopping rule is judged on what it kept, not only on its time.

Run by hand from the project root (never in the test suite), on an otherwise idle machine:

    OMP_NUM_THREADS=2 .venv/bin/python experiments/2026-12-scale/train_to_early_stop.py --model tabdiff --n 100000
    OMP_NUM_THREADS=2 .venv/bin/python experiments/2026-12-scale/train_to_early_stop.py --model tabdiff \
        --n 100000 --training min_delta=0.001   # another stopping rule than params.yaml's, for this run
    .venv/bin/python experiments/2026-12-scale/train_to_early_stop.py --render-only

→ ``train_scale/<model>_<n>_<device>_<rule>.json`` (+ ``_curve.csv``) and ``train_scale.md``, next to
this script.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from acacia.runs import machine, parse_overrides, shape_trend, with_training

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


class _Interrupted(Exception):
    pass


def _interrupt(signum: int, frame: Any) -> None:
    raise _Interrupted


def measure(model: str, n: int, params: dict[str, Any], device: str, work: Path, quality_n: int) -> dict[str, Any]:
    import pandas as pd
    import torch

    from acacia.data.portfolio import Portfolio
    from acacia.data.simulator import SimulatorConfig, simulate_to_folder
    from acacia.frugality import track
    from acacia.models import make_model
    from acacia.training.loop import CHECKPOINT, TrainResult, resolve_device

    raw = work / "raw"
    t0 = time.perf_counter()
    simulate_to_folder(SimulatorConfig.from_params({**params["simulate"]["simulated"], "n_customers": n, "frequency": "weekly"}), raw)
    simulate_seconds = time.perf_counter() - t0
    data = Portfolio.load(raw)
    model_params = dict(params["train"]["models"][model])
    if device != "auto":
        model_params["training"] = {**(model_params.get("training") or {}), "device": device}
    synth = make_model(model, model_params)
    # A run stopped by `timeout` (SIGTERM) still reports how far it got: the loop's checkpoint
    # (every 10 epochs by default) holds the loss history so far.
    synth.checkpoint_dir = work / "checkpoint"
    status, cost = "stopped early", {}
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        with track("train") as cost:  # filled (time, energy) on the way out, interrupted or not
            synth.fit(data)
        result = synth.training_result_
        if result.stopped_epoch == result.max_epochs:
            status = "ran all epochs"
    except _Interrupted:
        saved = synth.checkpoint_dir / CHECKPOINT
        if not saved.exists():
            raise
        result = TrainResult(**torch.load(saved, weights_only=True)["result"])
        status = f"interrupted after {cost['train_seconds'] / 60:.0f} min, at the checkpoint of epoch {result.stopped_epoch}"
    # What the stopping rule kept: Shape / Trend of a sample against as many fitted customers.
    quality = {}
    if quality_n and not status.startswith("interrupted"):
        t0 = time.perf_counter()
        syn = synth.sample(quality_n, seed=params.get("sample", {}).get("seed", 1))
        sample_seconds = time.perf_counter() - t0
        shape, trend = shape_trend(data, syn)
        quality = {"quality_n": quality_n, "quality_sample_seconds": round(sample_seconds, 1),
                   "shape_mean": round(shape, 4), "trend_mean": round(trend, 4)}
    return {
        "status": status,
        "model": model, "n_fit": len(data), "device": resolve_device(device).type,
        "machine": machine(resolve_device(device)),
        "simulate_seconds": round(simulate_seconds, 1),
        **cost,
        "stopped_epoch": result.stopped_epoch, "best_epoch": result.best_epoch,
        "max_epochs": result.max_epochs,
        "epochs_saved": result.epochs_saved if status == "stopped early" else None,
        "steps": result.steps, "steps_per_epoch": result.steps_per_epoch,
        "loop_seconds": round(result.seconds, 1),
        # result.seconds is only set when fit returns; an interrupted run has its step timings.
        "seconds_per_epoch": round((result.seconds or result.first_step_seconds + result.step_seconds
                                    + result.validation_seconds) / max(result.stopped_epoch, 1), 2),
        "best_val_loss": result.best_val_loss,
        "training": model_params.get("training"),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        **quality,
        "curve": pd.DataFrame(result.history).to_dict(orient="list"),
    }


def _patience(r: dict[str, Any]) -> str:
    t = r.get("training") or {}
    rule = f"{t.get('patience', '?')} {t.get('patience_unit', 'epochs')}"
    return rule + (f", min_delta {t['min_delta']:g}" if t.get("min_delta") else "")


def _quality(r: dict[str, Any]) -> str:
    if "shape_mean" not in r:
        return "n/a"
    return f"{r['shape_mean']:.4f} / {r['trend_mean']:.4f} ({r['quality_n']:,})"


def render(folder: Path) -> str:
    rows = []
    for path in sorted(folder.glob("*.json")):
        r = json.loads(path.read_text())
        rows.append(
            f"| {r['model']} | {r['n_fit']:,} | {r['device']} | {r['machine']['torch_threads']} | "
            f"{r['train_seconds'] / 60:.1f} | {_patience(r)} | {r['stopped_epoch']} / {r['max_epochs']} (best {r['best_epoch']}) | "
            f"{r['steps']:,} | {r['seconds_per_epoch']:.1f} | {r.get('train_energy_kwh', float('nan')):.4f} | "
            f"{r['peak_rss_mib']:,} | {_quality(r)} | {r.get('status', '')} |"
        )
    return "\n".join([
        "# Training to early stop at scale, measured end to end",
        "",
        "Measured with `experiments/2026-12-scale/train_to_early_stop.py` (see its docstring): one fit of the model, with "
        "its `train.models` parameters of params.yaml, on all the simulated customers (weekly series; the "
        "loop holds out 10 % of them for validation and early stopping), wall time from the start of `fit` "
        "to the restored best weights. Then `--quality-n` customers are sampled from the fitted model and "
        "compared with as many fitted ones (mean column Shape / pair Trend, as in the evaluate stage). "
        "The patience column is each run's stopping rule, `--training` overrides included (params.yaml "
        "itself has no `min_delta` for TabDiff: see README.md, next to this report).",
        "",
        "| model | customers fitted | device | threads | train (min) | patience | epochs stopped / max (best) | "
        "optimiser steps | s / epoch | energy (kWh) | peak RSS (MiB) | Shape / Trend (n) | status |",
        "| --- | ---: | --- | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | --- | --- |",
        *rows,
        "",
    ])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="tabdiff")
    ap.add_argument("--n", type=int, default=100_000, help="customers simulated and fitted")
    ap.add_argument("--params", type=Path, default=ROOT / "params.yaml")
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    ap.add_argument("--out-dir", type=Path, default=HERE,
                    help="JSONs go to <out-dir>/train_scale/, the report to <out-dir>/train_scale.md")
    ap.add_argument("--tmp-dir", type=Path, default=None, help="where the simulated portfolio is written")
    ap.add_argument("--quality-n", type=int, default=8000,
                    help="customers sampled after the fit for Shape / Trend against as many fitted ones (0: none)")
    ap.add_argument("--training", nargs="*", default=[], metavar="KEY=VALUE",
                    help="overrides of every training-loop section of the model for this run, e.g. min_delta=0.001")
    ap.add_argument("--render-only", action="store_true")
    args = ap.parse_args()
    folder = args.out_dir / "train_scale"
    if not args.render_only:
        params = yaml.safe_load(args.params.read_text())
        if args.model not in params["train"]["models"]:
            sys.exit(f"--model: '{args.model}' is not a key of train.models in {args.params}")
        try:
            overrides = parse_overrides(args.training)
        except ValueError as e:
            sys.exit(f"--training: {e}")
        if overrides:
            models = params["train"]["models"]
            models[args.model] = with_training(args.model, models[args.model], **overrides)
        work = Path(tempfile.mkdtemp(prefix="train_scale_", dir=args.tmp_dir))
        try:
            record = measure(args.model, args.n, params, args.device, work, args.quality_n)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        t = record.get("training") or {}
        stem = (f"{args.model}_{args.n}_{record['device']}_patience{t.get('patience', '')}{t.get('patience_unit', 'epochs')}"
                + (f"_mindelta{t['min_delta']:g}" if t.get("min_delta") else ""))
        curve = record.pop("curve")
        tmp = folder / f".{stem}.json.tmp"
        tmp.write_text(json.dumps(record, indent=2, default=float))
        os.replace(tmp, folder / f"{stem}.json")
        import pandas as pd

        pd.DataFrame(curve).to_csv(folder / f"{stem}_curve.csv", index=False)
        print(json.dumps({k: v for k, v in record.items() if k != "training"}, default=float))
    report = args.out_dir / "train_scale.md"
    tmp = report.with_suffix(".md.tmp")
    tmp.write_text(render(folder))
    os.replace(tmp, report)


if __name__ == "__main__":
    main()
