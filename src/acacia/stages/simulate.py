"""Stage ``simulate``: write the default simulated portfolio to data/raw/simulated."""

from __future__ import annotations

import sys

from acacia.data.simulator import SimulatorConfig, simulate_to_folder
from acacia.params import get, load_params
from acacia.paths import RAW_SIMULATED, staged_dir


def run(params_path: str = "params.yaml") -> None:
    cfg = SimulatorConfig.from_params(get(load_params(params_path), "simulate", dict))
    with staged_dir(RAW_SIMULATED) as tmp:
        simulate_to_folder(cfg, tmp)


if __name__ == "__main__":
    run(*sys.argv[1:])
