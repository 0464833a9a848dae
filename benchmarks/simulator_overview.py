"""The simulated portfolio at a glance → reports/figures/simulator_overview.png.

Run by hand:  .venv/bin/python benchmarks/simulator_overview.py [n_customers] [folder]
Simulates ``n_customers`` (default 20,000) into a temporary folder, or plots an existing
``simulate_to_folder`` output (e.g. data/raw/simulated) when a folder is given.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from acacia.data.simulator import SimulatorConfig, plot_overview, simulate_to_folder

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "reports" / "figures" / "simulator_overview.png"


def main(n: int = 20_000, folder: str | None = None) -> None:
    if folder is not None:
        plot_overview(folder, OUT)
    else:
        with tempfile.TemporaryDirectory(prefix="acacia-overview-") as tmp:
            simulate_to_folder(SimulatorConfig(n_customers=n, seed=0), tmp)
            plot_overview(tmp, OUT)
    print(OUT)


if __name__ == "__main__":
    args = sys.argv[1:]
    main(int(args[0]) if args else 20_000, args[1] if len(args) > 1 else None)
