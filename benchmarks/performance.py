"""Scaling benchmark (issue 10): for each model, preparation, training per epoch, projected time
to early stop, sampling throughput, evaluation time, energy and peak memory at 10k, 100k and 1M
customers (weekly series) → one JSON per (model, size, device) under reports/performance/ and
reports/performance.md rendered from all the JSONs present.

Run by hand (never in the test suite), on an otherwise idle machine:

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/performance.py [--models tvae_variant tabdiff]
        [--sizes 10000 100000 1000000] [--train-steps 30] [--device auto|cpu|cuda]
    .venv/bin/python benchmarks/performance.py --render-only [--reproject]

For each size the portfolio is simulated once (chunked) and split like the pipeline; each
(model, size) then runs in a fresh child process, so its peak RSS is its own, killed at
``--time-cap`` seconds and recorded as a timeout (with what it had measured by then).
Training is timed over K optimiser steps of the shared loop (``TrainConfig.max_steps``) and
scaled to one epoch: training a million customers to early stopping is not measured, it is
projected from the pipeline's own train records (``--reproject`` recomputes every record's
projection from the train records of now, after the pipeline has been trained again).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from acacia.runs import machine, with_training

sys.path.insert(0, str(Path(__file__).resolve().parent))
from performance_report import load_records, render  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------- data, per size
def prepare_data(size: int, params: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Simulate ``size`` customers (weekly) into ``folder``/raw and split them into
    ``folder``/{train,holdout,test} with the pipeline's split; consumption is streamed."""
    import pandas as pd

    from acacia.data.portfolio import (
        CONSUMPTION_FILE,
        CUSTOMERS_FILE,
        SCHEMA_FILE,
        Portfolio,
        write_parquet,
    )
    from acacia.data.schema import Schema
    from acacia.data.simulator import SimulatorConfig, simulate_to_folder
    from acacia.data.splits import split_portfolio

    raw = folder / "raw"
    t0 = time.perf_counter()
    cfg = SimulatorConfig.from_params({**params["simulate"]["simulated"], "n_customers": size, "frequency": "weekly"})
    simulate_to_folder(cfg, raw)
    t_sim = time.perf_counter() - t0

    t0 = time.perf_counter()
    schema = Schema.load(raw / SCHEMA_FILE)
    customers = pd.read_parquet(raw / CUSTOMERS_FILE)
    # The split only reads the customer ids: splitting the customers table alone gives the
    # pipeline's splits, and each split's consumption is then filtered out chunk by chunk.
    no_series = pd.DataFrame(columns=[schema.id_column])
    prepare = params.get("prepare", {})
    splits = split_portfolio(Portfolio(customers, no_series, schema),
                             prepare.get("split", {"train": 0.4, "holdout": 0.4, "test": 0.2}),
                             seed=prepare.get("seed", 0), stratify=prepare.get("stratify"))
    for name, part in splits.items():
        write_parquet(part.customers, folder / name / CUSTOMERS_FILE)
        schema.save(folder / name / SCHEMA_FILE)
    _split_consumption(raw / CONSUMPTION_FILE, {n: p.ids for n, p in splits.items()},
                       {n: folder / n / CONSUMPTION_FILE for n in splits}, schema.id_column)
    shutil.copyfile(raw / "temperature.parquet", folder / "temperature.parquet")
    shutil.rmtree(raw)
    return {"simulate_seconds": round(t_sim, 1), "split_seconds": round(time.perf_counter() - t0, 1),
            "sizes": {n: len(p) for n, p in splits.items()}}


def _split_consumption(source: Path, ids: dict[str, Any], targets: dict[str, Path], id_column: str) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    reader = pq.ParquetFile(source)
    members = {n: pa.array(v.astype(str).to_numpy()) for n, v in ids.items()}
    writers = {n: pq.ParquetWriter(targets[n], reader.schema_arrow) for n in targets}
    try:
        for batch in reader.iter_batches(batch_size=2_000_000):
            table = pa.Table.from_batches([batch])
            for n, w in writers.items():
                w.write_table(table.filter(pc.is_in(table[id_column], value_set=members[n])))
    finally:
        for w in writers.values():
            w.close()


# ---------------------------------------------------------------------------- one (model, size)
def phase_timing(result: Any, batch_size: int) -> dict[str, float]:
    """Seconds per step (first step left out), per validation pass, and the extrapolated epoch."""
    per_step = result.step_seconds / (result.steps - 1) if result.steps > 1 else result.first_step_seconds
    validation = result.validation_seconds / max(result.stopped_epoch, 1)
    return {"steps": result.steps, "steps_per_epoch": result.steps_per_epoch, "batch_size": batch_size,
            "first_step_seconds": result.first_step_seconds, "seconds_per_step": per_step,
            "validation_seconds": validation, "loop_seconds": result.seconds,
            "timed_seconds": result.first_step_seconds + result.step_seconds + result.validation_seconds,
            "epoch_seconds": result.steps_per_epoch * per_step + validation}


def _phase_batch_sizes(model: Any) -> dict[str, int]:
    cfgs = {"vae": getattr(model, "vae_config", None), "diffusion": getattr(model, "train_config", None),
            "training": getattr(model, "train_config", None)}
    sequence = getattr(getattr(getattr(model, "codec_", None), "series_", None), "sequence_", None)
    cfgs["series"] = getattr(sequence, "train_config", None)
    return {k: c.batch_size for k, c in cfgs.items() if c is not None}


def _early_stop_projection(model_name: str, pipeline_model: Any, phases: dict[str, dict],
                           records_dir: Path) -> dict[str, Any] | None:
    path = records_dir / f"{model_name}.json"
    if not phases or not path.is_file():
        return None
    rec = json.loads(path.read_text())
    stopped = rec.get("stopped_epoch")
    if not stopped:
        return None
    epochs = {name: stopped for name in phases}
    if "vae" in phases and "diffusion" in phases:
        # The train record chains both phases' epochs; the VAE phase is assumed to have run its
        # max_epochs (or all of them), the diffusion the rest.
        vae = min(stopped, pipeline_model.vae_config.max_epochs)
        epochs = {"vae": vae, "diffusion": max(stopped - vae, 0)}
    projected = sum(epochs[n] * phases[n]["epoch_seconds"] for n in phases if n in epochs)
    return {"stopped_epoch": stopped, "n_fit": rec.get("n_fit"), "record_train_seconds": rec.get("train_seconds"),
            "epochs_by_phase": epochs, "projected_seconds": projected, "record": str(path)}


def reset_peak_rss() -> bool:
    """Restart the process's peak-memory count here (Linux: ``clear_refs`` 5 resets VmHWM, which
    ``ru_maxrss`` reads for a live process); False where the system does not allow it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_mib() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


class _Progress:
    """The record so far, rewritten after every phase so that a run killed at the time cap
    still leaves what it measured."""

    def __init__(self, path: Path, record: dict[str, Any]) -> None:
        self.path, self.record = path, record

    def phase(self, name: str, **values: Any) -> None:
        self.record.update(values)
        self.record["phase"] = name
        self.record["peak_rss_mib"] = max(self.record.get("peak_rss_mib", 0), peak_rss_mib())
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.record, indent=2, default=float))
        os.replace(tmp, self.path)


def measure(spec: dict[str, Any]) -> None:
    """One (model, size): writes its record to spec['partial'] phase by phase."""
    import pandas as pd
    import torch

    from acacia.data.portfolio import Portfolio
    from acacia.evaluation.evaluate import evaluate
    from acacia.frugality import track
    from acacia.models import make_model
    from acacia.sampling import sample_to_parquet
    from acacia.training.loop import resolve_device
    from acacia.training.results import training_phases

    params = yaml.safe_load(Path(spec["params"]).read_text())
    name, data = spec["model"], Path(spec["data"])
    model_params = params["train"]["models"].get(name) or {}
    device = resolve_device(spec["device"])
    progress = _Progress(Path(spec["partial"]), {
        "model": name, "size": spec["size"], "device": device.type, "status": "running",
        "train_steps": spec["train_steps"], "load_start": os.getloadavg()[0], "machine": machine(device)})
    torch.manual_seed(0)
    train = Portfolio.load(data / "train", as_matrix=True)  # as the train stage loads it
    progress.phase("loaded", n_train=len(train))

    budget = with_training(name, model_params, max_steps=spec["train_steps"], device=spec["device"], progress=False)
    model = make_model(name, budget)
    t0 = time.perf_counter()
    with track("train", enabled=spec["energy"]) as cost:
        model.fit(train)
    fit_seconds = time.perf_counter() - t0
    results = training_phases(model)
    batch = _phase_batch_sizes(model)
    phases = {n: phase_timing(r, batch[n]) for n, r in results.items()}
    timed = sum(p["timed_seconds"] for p in phases.values())
    progress.phase("trained", fit_seconds=fit_seconds, closed_form=not phases, phases=phases,
                   preparation_seconds=fit_seconds - timed if phases else None,
                   epoch_seconds=sum(p["epoch_seconds"] for p in phases.values()) if phases else fit_seconds,
                   training_energy={"energy_kwh": cost.get("train_energy_kwh"),
                                    "emissions_kg": cost.get("train_emissions_kg")},
                   to_early_stop=_early_stop_projection(name, make_model(name, model_params), phases,
                                                        Path(spec["train_records"])))

    if phases and spec["size"] <= spec["full_epoch_max"]:
        one = make_model(name, with_training(name, model_params, max_steps=None, max_epochs=1,
                                              device=spec["device"], progress=False))
        t0 = time.perf_counter()
        one.fit(train)
        runs = training_phases(one).values()
        full = {"fit_seconds": time.perf_counter() - t0,
                "seconds": sum(r.first_step_seconds + r.step_seconds + r.validation_seconds for r in runs),
                "loop_seconds": sum(r.seconds for r in runs)}
        progress.phase("full_epoch", full_epoch=full)
        del one

    n_train = len(train)
    n = min(spec["size"], spec["sample_n_fast"]) if not phases else spec["sample_n"]
    evaluated = spec["size"] <= spec["eval_max"]
    if evaluated:
        n = max(n, n_train)  # the evaluation compares the train split with as many synthetic customers
    out = Path(tempfile.mkdtemp(prefix="acacia-perf-sample-", dir=data))
    sample = params.get("sample", {})
    t0 = time.perf_counter()
    with track("sample", enabled=spec["energy"]) as cost:
        written = sample_to_parquet(model, n, out / "synthetic", seed=sample.get("seed", 1),
                                    chunk_size=sample.get("chunk_size") or 50_000)
    seconds = time.perf_counter() - t0
    progress.phase("sampled", sampling={"n": written, "seconds": seconds, "customers_per_second": written / seconds,
                                        "energy_kwh": cost.get("sample_energy_kwh"),
                                        "emissions_kg": cost.get("sample_emissions_kg")})

    if evaluated:
        # As the evaluate stage loads them: series as matrices, the long tables never in memory.
        # The fit's long train split goes first, and the peak is measured from here on, so the
        # evaluation's memory is its own (loading included), not the fit's.
        del train, model
        gc.collect()
        reset = reset_peak_rss()
        t0 = time.perf_counter()
        real = {n: Portfolio.load(data / n, as_matrix=True) for n in ("train", "holdout", "test")}
        syn = Portfolio.load(out / "synthetic", schema=real["train"].schema, as_matrix=True)
        temperature = pd.read_parquet(data / "temperature.parquet")
        loaded = time.perf_counter() - t0
        t0 = time.perf_counter()
        metrics, tables = evaluate(real["train"], real["holdout"], real["test"], syn, params.get("evaluate"),
                                   temperature=temperature)
        timings = tables["timings"]
        progress.phase("evaluated", evaluation={
            "seconds": time.perf_counter() - t0, "load_seconds": loaded,
            "families": dict(zip(timings["family"], timings["seconds"].astype(float), strict=True)),
            "n_compared": int(metrics.get("n_synthetic") or 0),
            "peak_rss_mib": peak_rss_mib() if reset else None})
    shutil.rmtree(out, ignore_errors=True)
    if device.type == "cuda":
        progress.record["gpu_peak_mib"] = round(torch.cuda.max_memory_allocated() / 2**20)
    progress.phase("done", status="ok", load_end=os.getloadavg()[0])


# ---------------------------------------------------------------------------- driver
def _child(spec: dict[str, Any], timeout: float | None) -> tuple[int | None, str]:
    """Run one child (its own session, so a timeout kills its whole process group)."""
    proc = subprocess.Popen([sys.executable, __file__, "--child", json.dumps(spec)], start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
        return proc.returncode, out
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return None, out


def run_size(size: int, models: list[str], a: argparse.Namespace, out_dir: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix=f"acacia-perf-{size}-", dir=a.tmp_dir))
    try:
        rc, log = _child({"task": "data", "size": size, "params": str(a.params), "data": str(work)}, None)
        if rc != 0:
            raise RuntimeError(f"simulating {size:,} customers failed:\n{log[-3000:]}")
        print(f"[{size:,}] data: {log.strip().splitlines()[-1]}", flush=True)
        for name in models:
            partial = work / f"{name}.partial.json"
            spec = {"task": "measure", "model": name, "size": size, "params": str(a.params), "data": str(work),
                    "partial": str(partial), "device": a.device, "train_steps": a.train_steps,
                    "sample_n": a.sample_n, "sample_n_fast": a.sample_n_fast, "eval_max": a.eval,
                    "full_epoch_max": a.full_epoch_max, "energy": not a.no_energy,
                    "train_records": str(a.train_records)}
            t0 = time.perf_counter()
            rc, log = _child(spec, a.time_cap)
            record = json.loads(partial.read_text()) if partial.is_file() else {"model": name, "size": size}
            if rc is None:
                record["status"] = "timeout"
            elif rc != 0:
                record["status"] = "error"
                record["error"] = log.strip().splitlines()[-1] if log.strip() else f"exit status {rc}"
                print(log[-3000:], file=sys.stderr)
            record.setdefault("device", a.device)
            record.setdefault("phase", "start")
            record["wall_seconds"] = time.perf_counter() - t0
            record.setdefault("load_end", os.getloadavg()[0])
            record["command"] = a.command
            write_record(out_dir / "performance" / f"{name}_{size}_{record['device']}.json", record)
            print(f"[{size:,}] {name}: {record['status']} in {record['wall_seconds']:.0f} s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def write_record(path: Path, record: dict[str, Any]) -> None:
    """One (model, size, device) record, written whole or not at all (its folder made)."""
    from acacia.data.schema import atomic_write_text

    atomic_write_text(path, json.dumps(record, indent=2, sort_keys=True, default=float) + "\n")


def reproject(out_dir: Path, params: dict[str, Any], train_records: Path) -> list[Path]:
    """Recompute every record's early-stop projection from its measured epoch times and the
    train records as they are now: a record keeps the stopped epoch of the pipeline run of its
    day, which a later training (or a model that did not report it then) makes stale."""
    from acacia.models import make_model

    changed = []
    for path in sorted((out_dir / "performance").glob("*.json")):
        record = json.loads(path.read_text())
        phases = record.get("phases") or {}
        if not phases or record.get("model") not in params["train"]["models"]:
            continue
        model = make_model(record["model"], params["train"]["models"][record["model"]] or {})
        projection = _early_stop_projection(record["model"], model, phases, train_records)
        if projection != record.get("to_early_stop"):
            record["to_early_stop"] = projection
            write_record(path, record)
            changed.append(path)
    return changed


def write_report(out_dir: Path, command: str) -> Path:
    report = out_dir / "performance.md"
    report.write_text(render(load_records(out_dir / "performance"), command))
    return report


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", type=Path, default=ROOT / "params.yaml")
    ap.add_argument("--models", nargs="+", help="default: every train.models key except holdout")
    ap.add_argument("--sizes", nargs="+", type=int, default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--train-steps", type=int, default=30, help="K optimiser steps timed per training phase")
    ap.add_argument("--sample-n", type=int, default=2000, help="customers sampled by the neural models")
    ap.add_argument("--sample-n-fast", type=int, default=100_000,
                    help="cap on the customers the closed-form models sample (min(size, this))")
    ap.add_argument("--eval", type=int, default=100_000, help="evaluate at sizes up to this (0: never)")
    ap.add_argument("--full-epoch-max", type=int, default=100_000,
                    help="also time one full epoch at sizes up to this (0: never)")
    ap.add_argument("--time-cap", type=float, default=3600, help="seconds per (model, size) run")
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    ap.add_argument("--no-energy", action="store_true", help="skip the codecarbon tracker")
    ap.add_argument("--train-records", type=Path, default=ROOT / "reports" / "train",
                    help="the pipeline's train records (stopped_epoch) for the early-stop projection")
    ap.add_argument("--out-dir", type=Path, default=ROOT / "reports",
                    help="JSONs go to <out-dir>/performance/, the report to <out-dir>/performance.md")
    ap.add_argument("--tmp-dir", type=Path, default=None, help="where the simulated portfolios are written")
    ap.add_argument("--render-only", action="store_true", help="re-render the report from the JSONs present")
    ap.add_argument("--reproject", action="store_true",
                    help="with --render-only: first recompute the early-stop projections from --train-records")
    a = ap.parse_args(argv)
    command = "python benchmarks/performance.py " + " ".join(argv if argv is not None else sys.argv[1:])
    a.command = command  # recorded in every JSON: the report lists the runs it was built from
    if a.reproject and not a.render_only:
        ap.error("--reproject: only with --render-only (a measuring run projects from --train-records itself)")
    if a.render_only:
        if a.reproject:
            for path in reproject(a.out_dir, yaml.safe_load(a.params.read_text()), a.train_records):
                print(f"reprojected {path}")
        print(write_report(a.out_dir, command))
        return
    if a.train_steps < 2:
        ap.error("--train-steps: at least 2 (the first step is left out of the timing)")
    if not a.params.is_file():
        ap.error(f"--params: {a.params} not found")
    params = yaml.safe_load(a.params.read_text())
    known = params.get("train", {}).get("models") or {}
    models = a.models or [m for m in known if m != "holdout"]
    if "holdout" in models:
        ap.error("--models: holdout is the real holdout split, it has no training or sampling to time")
    unknown = [m for m in models if m not in known]
    if unknown:
        ap.error(f"--models: {unknown} not in {a.params}'s train.models ({sorted(known)})")
    import torch

    if a.device == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda: torch sees no CUDA device here")
    if a.device == "auto":  # resolved once, so every child and record names the same device
        a.device = "cuda" if torch.cuda.is_available() else "cpu"
    for size in a.sizes:
        run_size(size, models, a, a.out_dir)
    print(write_report(a.out_dir, command))


def _child_main(spec: dict[str, Any]) -> None:
    if spec["task"] == "data":
        params = yaml.safe_load(Path(spec["params"]).read_text())
        print(json.dumps(prepare_data(spec["size"], params, Path(spec["data"]))))
    else:
        measure(spec)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        _child_main(json.loads(sys.argv[2]))
    else:
        main()
