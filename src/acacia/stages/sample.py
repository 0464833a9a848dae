"""Stage ``sample@<model>``: draw a synthetic portfolio into data/synthetic/<model>."""

from __future__ import annotations

import sys

import pandas as pd

from acacia.data.portfolio import CUSTOMERS_FILE
from acacia.frugality import track
from acacia.models import Synthesizer
from acacia.params import get, load_params
from acacia.paths import MODELS, PROCESSED, SAMPLE_METRICS, SYNTHETIC, staged_dir, write_json


def run(params_path: str, model: str) -> None:
    params = load_params(params_path)
    n = get(params, "sample.n", int, default=None)
    seed = get(params, "sample.seed", int)
    synth = Synthesizer.load(MODELS / model)
    if n is None:
        # Same size as the training split, as the fidelity metrics compare equal sizes.
        n = len(pd.read_parquet(PROCESSED / "train" / CUSTOMERS_FILE, columns=[]))
    with track("sample", enabled=get(params, "frugality.track", bool, default=True)) as cost:
        out = synth.sample(n, seed=seed)
    out.validate(source=f"synthetic/{model}")
    with staged_dir(SYNTHETIC / model) as tmp:
        out.save(tmp)
    rate = len(out) / max(cost["sample_seconds"], 1e-9)
    write_json(
        SAMPLE_METRICS / f"{model}.json",
        {**cost, "n_sampled": len(out), "customers_per_second": round(rate, 1)},
    )


if __name__ == "__main__":
    run(*sys.argv[1:])
