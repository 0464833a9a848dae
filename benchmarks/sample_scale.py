"""Streaming sampling at portfolio scale: wall time and peak memory of `sample_to_parquet`.

Run by hand (never in the test suite):

    .venv/bin/python benchmarks/sample_scale.py [--models gaussian_copula independent] [sizes...]

Each model is fitted once on a simulated 20,000-customer portfolio's train split (8,000
customers, weekly series 2019-2021), saved, then each size is sampled in a fresh process
(`sample.chunk_size` 50,000) so its peak RSS is that run's own. Writes reports/sample_scale.md.
Target (issue 10): 1,000,000 customers with weekly series under 8 GiB peak memory; the Gaussian
copula at >= 50,000 customers/s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHUNK = 50_000


def fit_models(models: list[str], folder: Path) -> None:
    from acacia.data.portfolio import Portfolio
    from acacia.data.simulator import SimulatorConfig, simulate_to_folder
    from acacia.data.splits import split_portfolio
    from acacia.models import make_model

    raw = folder / "raw"
    simulate_to_folder(SimulatorConfig(n_customers=20_000, chunk_size=50_000), raw)
    real = Portfolio.load(raw)
    train = split_portfolio(real, {"train": 0.4, "holdout": 0.4, "test": 0.2}, seed=0)["train"]
    for m in models:
        make_model(m, {"seed": 0}).fit(train).save(folder / m)


def one(model_dir: Path, n: int) -> dict:
    import pyarrow.parquet as pq

    from acacia.models import Synthesizer
    from acacia.sampling import sample_to_parquet

    model = Synthesizer.load(model_dir)
    out = Path(tempfile.mkdtemp(prefix="acacia-sample-")) / "s"
    try:
        t = time.perf_counter()
        sample_to_parquet(model, n, out, seed=1, chunk_size=CHUNK)
        seconds = time.perf_counter() - t
        rows = pq.ParquetFile(out / "consumption.parquet").metadata.num_rows
        size = sum(p.stat().st_size for p in out.iterdir())
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"n": n, "seconds": round(seconds, 1), "customers_per_second": round(n / seconds),
            "peak_rss_mib": round(peak), "consumption_rows": rows, "output_mib": round(size / 2**20, 1)}


def main(models: list[str], sizes: list[int]) -> None:
    work = Path(tempfile.mkdtemp(prefix="acacia-sample-scale-"))
    try:
        fit_models(models, work)
        results = []
        for m in models:
            for n in sizes:
                res = subprocess.run([sys.executable, __file__, "--one", str(work / m), str(n)],
                                     capture_output=True, text=True, check=True)
                results.append({"model": m, **json.loads(res.stdout.strip().splitlines()[-1])})
                print(results[-1], flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lines = [
        "# Sampling at scale",
        "",
        "Measured with `.venv/bin/python benchmarks/sample_scale.py --models " + " ".join(models) + " "
        + " ".join(map(str, sizes)) + "`",
        f"on this project's reference machine ({os.cpu_count()} CPU cores), models fitted on 8,000 simulated",
        "customers (weekly series, 157 periods), each size sampled in a fresh process by",
        f"`acacia.sampling.sample_to_parquet` (`chunk_size: {CHUNK:,}`; validation of every chunk",
        "against the schema included), Parquet written chunk by chunk. Target: 1,000,000 customers under",
        "8 GiB peak RSS; Gaussian copula >= 50,000 customers/s.",
        "",
        "| model | customers | seconds | customers/s | peak RSS (MiB) | consumption rows | output (MiB) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(f"| {r['model']} | {r['n']:,} | {r['seconds']} | {r['customers_per_second']:,} "
                     f"| {r['peak_rss_mib']:,} | {r['consumption_rows']:,} | {r['output_mib']} |")
    (ROOT / "reports" / "sample_scale.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        print(json.dumps(one(Path(sys.argv[2]), int(sys.argv[3]))))
    else:
        ap = argparse.ArgumentParser()
        ap.add_argument("--models", nargs="+", default=["gaussian_copula", "independent"])
        ap.add_argument("sizes", nargs="*", type=int, default=[10_000, 100_000, 1_000_000])
        a = ap.parse_args()
        main(a.models, a.sizes)
