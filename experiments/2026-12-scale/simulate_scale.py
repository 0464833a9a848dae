"""Wall time and peak memory of the simulator at 10k, 100k and 1M customers (weekly, 2019–2021).

Run by hand from the project root (never in the test suite):

    .venv/bin/python experiments/2026-12-scale/simulate_scale.py [sizes...]

Each size runs in a fresh process so peak RSS is that run's own. Writes simulator_scale.md next to
this script.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def one(n: int) -> dict:
    from acacia.data.simulator import SimulatorConfig, simulate_to_folder

    out = Path(tempfile.mkdtemp(prefix="acacia-sim-"))
    try:
        cfg = SimulatorConfig(n_customers=n, chunk_size=50000)
        t = time.perf_counter()
        simulate_to_folder(cfg, out)
        seconds = time.perf_counter() - t
        size = sum(p.stat().st_size for p in out.iterdir())
        import pyarrow.parquet as pq

        rows = pq.ParquetFile(out / "consumption.parquet").metadata.num_rows
    finally:
        shutil.rmtree(out, ignore_errors=True)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"n_customers": n, "seconds": round(seconds, 1), "peak_rss_mib": round(peak_mib),
            "consumption_rows": rows, "output_mib": round(size / 2**20, 1),
            "customers_per_second": round(n / seconds)}


def main(sizes: list[int]) -> None:
    results = []
    for n in sizes:
        res = subprocess.run([sys.executable, __file__, "--one", str(n)], capture_output=True, text=True, check=True)
        results.append(json.loads(res.stdout.strip().splitlines()[-1]))
        print(results[-1], flush=True)
    lines = [
        "# Simulator scale",
        "",
        "Measured with `.venv/bin/python experiments/2026-12-scale/simulate_scale.py " + " ".join(map(str, sizes)) + "`",
        f"on this project's reference machine ({os.cpu_count()} CPU cores), weekly series 2018-12-31 → 2022-01-02",
        "(157 weeks), `chunk_size: 50000`, each size in a fresh process. Target: 1,000,000 customers in",
        "under 5 minutes with bounded memory.",
        "",
        "| customers | seconds | customers/s | peak RSS (MiB) | consumption rows | output (MiB) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(f"| {r['n_customers']:,} | {r['seconds']} | {r['customers_per_second']:,} | {r['peak_rss_mib']:,} "
                     f"| {r['consumption_rows']:,} | {r['output_mib']} |")
    (HERE / "simulator_scale.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(json.dumps(one(int(sys.argv[2]))))
    else:
        main([int(a) for a in sys.argv[1:]] or [10_000, 100_000, 1_000_000])
