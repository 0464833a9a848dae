"""Stage ``sample@<model>``: draw a synthetic portfolio into data/synthetic/<model>."""

from __future__ import annotations

import sys
import time

import pandas as pd

from acacia.data.portfolio import CUSTOMERS_FILE
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
    start = time.perf_counter()
    out = synth.sample(n, seed=seed)
    seconds = time.perf_counter() - start
    out.validate(source=f"synthetic/{model}")
    with staged_dir(SYNTHETIC / model) as tmp:
        out.save(tmp)
    write_json(
        SAMPLE_METRICS / f"{model}.json",
        {
            "sample_seconds": round(seconds, 3),
            "n_sampled": len(out),
            "customers_per_second": round(len(out) / max(seconds, 1e-9), 1),
        },
    )


if __name__ == "__main__":
    run(*sys.argv[1:])
