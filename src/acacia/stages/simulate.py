"""Stage ``simulate@<name>``: write the simulated portfolio ``simulate.<name>`` to data/raw/<name>.

``simulate`` in params.yaml lists the portfolios to simulate (the default has one, ``simulated``);
a profile on real data empties it, so nothing is simulated that nobody reads.
"""

from __future__ import annotations

import sys

from acacia.data.simulator import SimulatorConfig, simulate_to_folder
from acacia.errors import ParamsError
from acacia.params import get, load_params
from acacia.paths import RAW, staged_dir


def run(params_path: str = "params.yaml", name: str = "simulated") -> None:
    portfolios = get(load_params(params_path), "simulate", dict)
    if name not in portfolios:
        raise ParamsError(f"params.yaml: missing key 'simulate.{name}' (simulated portfolios: {sorted(portfolios)})")
    cfg = SimulatorConfig.from_params(get(portfolios, name, dict), section=f"simulate.{name}")
    with staged_dir(RAW / name) as tmp:
        simulate_to_folder(cfg, tmp)


if __name__ == "__main__":
    run(*sys.argv[1:])
