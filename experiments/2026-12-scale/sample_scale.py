"""Streaming sampling at portfolio scale: wall time and peak memory of `sample_to_parquet`.

Run by hand from the project root (never in the test suite):

    .venv/bin/python experiments/2026-12-scale/sample_scale.py [sizes...] \
        [--models gaussian_copula independent] [--series compressed flat] [--profile] [--out PATH]

(sizes before the options: after ``--series`` argparse would read them as series names).

Each model is fitted once per series representation on a simulated 20,000-customer portfolio's
train split (8,000 customers, weekly series 2019-2021), saved, then each size is sampled in a
fresh process (`sample.chunk_size` 50,000) so its peak RSS is that run's own. `--profile` adds,
per model, the top of a cProfile of one more 50,000-customer run (the timed runs are not
profiled). Writes sample_scale.md next to this script (or ``--out``).
Target (issue 10): 1,000,000 customers with weekly series under 8 GiB peak memory; the Gaussian
copula at >= 50,000 customers/s.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CHUNK = 50_000


def fit_models(models: list[str], series: list[str], folder: Path) -> None:
    from acacia.data.portfolio import Portfolio
    from acacia.data.simulator import SimulatorConfig, simulate_to_folder
    from acacia.data.splits import split_portfolio
    from acacia.models import make_model

    raw = folder / "raw"
    simulate_to_folder(SimulatorConfig(n_customers=20_000, chunk_size=50_000), raw)
    real = Portfolio.load(raw)
    train = split_portfolio(real, {"train": 0.4, "holdout": 0.4, "test": 0.2}, seed=0)["train"]
    for m in models:
        for s in series:
            make_model(m, {"seed": 0, "series_representation": s}).fit(train).save(folder / f"{m}-{s}")


def one(model_dir: Path, n: int, profile: bool = False) -> dict:
    import pyarrow.parquet as pq

    from acacia.models import Synthesizer
    from acacia.sampling import sample_to_parquet

    model = Synthesizer.load(model_dir)
    out = Path(tempfile.mkdtemp(prefix="acacia-sample-")) / "s"
    try:
        t, cpu = time.perf_counter(), _cpu_seconds()
        sample_to_parquet(model, n, out, seed=1, chunk_size=CHUNK)
        seconds, cpu = time.perf_counter() - t, _cpu_seconds() - cpu
        rows = pq.ParquetFile(out / "consumption.parquet").metadata.num_rows
        size = sum(p.stat().st_size for p in out.iterdir())
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {"n": n, "seconds": round(seconds, 1), "customers_per_second": round(n / seconds),
           "cpu_seconds": round(cpu, 1),
           "peak_rss_mib": round(peak), "consumption_rows": rows, "output_mib": round(size / 2**20, 1)}
    if profile:
        out["profile"] = profile_lines(model, min(n, CHUNK))
    return out


def _cpu_seconds() -> float:
    # All threads of this process: less sensitive than wall time to other jobs on the machine.
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def profile_lines(model, n: int, top: int = 12) -> list[str]:
    """The functions taking the most time of their own in one sampling run."""
    from acacia.sampling import sample_to_parquet

    folder = Path(tempfile.mkdtemp(prefix="acacia-sample-profile-"))
    prof = cProfile.Profile()
    try:
        prof.runcall(sample_to_parquet, model, n, folder / "s", seed=1, chunk_size=CHUNK)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    text = io.StringIO()
    stats = pstats.Stats(prof, stream=text).sort_stats("tottime")
    stats.print_stats(top)
    lines = [ln for ln in text.getvalue().splitlines() if ln.strip()]
    start = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls"))
    return [f"{lines[0].strip()}"] + [ln.replace(str(ROOT) + "/", "").replace(sys.prefix + "/", "")
                                      for ln in lines[start:]]


def main(models: list[str], series: list[str], sizes: list[int], profile: bool, out: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix="acacia-sample-scale-"))
    try:
        fit_models(models, series, work)
        results = []
        for m in models:
            for s in series:
                for i, n in enumerate(sizes):
                    flag = ["--profile"] if profile and i == len(sizes) - 1 else []
                    res = subprocess.run([sys.executable, __file__, "--one", str(work / f"{m}-{s}"), str(n), *flag],
                                         capture_output=True, text=True, check=True)
                    results.append({"model": m, "series": s, **json.loads(res.stdout.strip().splitlines()[-1])})
                    print({k: v for k, v in results[-1].items() if k != "profile"}, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lines = [
        "# Sampling at scale",
        "",
        # Sizes first: after --models / --series, argparse would read them as more of those.
        "Measured with `.venv/bin/python experiments/2026-12-scale/sample_scale.py " + " ".join(map(str, sizes))
        + " --models " + " ".join(models) + " --series " + " ".join(series)
        + (" --profile" if profile else "") + "`",
        f"on this project's reference machine ({os.cpu_count()} CPU cores), models fitted on 8,000 simulated",
        "customers (weekly series, 157 periods), each size sampled in a fresh process by",
        f"`acacia.sampling.sample_to_parquet` (`chunk_size: {CHUNK:,}`; validation of every chunk",
        "against the schema included), each chunk validated and written to Parquet on a worker thread",
        "while the next is drawn (the two NumPy-only models here draw two chunks at once); CPU seconds",
        "count every thread of the process. Target: 1,000,000 customers under 8 GiB peak RSS; Gaussian",
        "copula >= 50,000 customers/s (its default series representation is `compressed`).",
        "",
        "| model | series | customers | seconds | customers/s | CPU seconds | peak RSS (MiB) | consumption rows | output (MiB) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(f"| {r['model']} | {r['series']} | {r['n']:,} | {r['seconds']} | {r['customers_per_second']:,} "
                     f"| {r['cpu_seconds']} "
                     f"| {r['peak_rss_mib']:,} | {r['consumption_rows']:,} | {r['output_mib']} |")
    for r in results:
        if "profile" in r:
            lines += ["", f"Profile (cProfile, by own time) of {r['model']}, {r['series']} series, "
                      f"one chunk of {min(r['n'], CHUNK):,} customers; main thread only: the Parquet "
                      "write runs on the worker thread, its wait shows as `acquire`:", "", "```",
                      *r["profile"], "```"]
    out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    if len(sys.argv) in (4, 5) and sys.argv[1] == "--one":
        print(json.dumps(one(Path(sys.argv[2]), int(sys.argv[3]), profile=sys.argv[4:] == ["--profile"])))
    else:
        ap = argparse.ArgumentParser()
        ap.add_argument("--models", nargs="+", default=["gaussian_copula", "independent"])
        ap.add_argument("--series", nargs="+", default=["compressed", "flat"],
                        help="series representations (the pipeline's default is compressed)")
        ap.add_argument("--profile", action="store_true", help="add a cProfile of one chunk per model")
        ap.add_argument("--out", type=Path, default=HERE / "sample_scale.md")
        ap.add_argument("sizes", nargs="*", type=int, default=[10_000, 100_000, 1_000_000])
        a = ap.parse_args()
        main(a.models, a.series, a.sizes, a.profile, a.out)
