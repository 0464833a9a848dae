"""Stage ``sample@<model>``: draw a synthetic portfolio into data/synthetic/<model>."""

from __future__ import annotations

import sys

import pandas as pd

from acacia.data.portfolio import CUSTOMERS_FILE, save_reference
from acacia.frugality import track
from acacia.models import Synthesizer
from acacia.params import get, load_params
from acacia.paths import MODELS, PROCESSED, SAMPLE_METRICS, SYNTHETIC, write_json
from acacia.sampling import chunk_seed, sample_to_parquet


def run(params_path: str, model: str) -> None:
    params = load_params(params_path)
    n = get(params, "sample.n", int, default=None)
    seed = get(params, "sample.seed", int)
    chunk_size = get(params, "sample.chunk_size", int, default=50_000)
    synth = Synthesizer.load(MODELS / model)
    if n is None:
        # Same size as the training split, as the fidelity metrics compare equal sizes.
        n = len(pd.read_parquet(PROCESSED / "train" / CUSTOMERS_FILE, columns=[]))
    with track("sample", enabled=get(params, "frugality.track", bool, default=True)) as cost:
        if hasattr(synth, "reference_rows"):
            # real customers (the holdout reference): their positions, not their rows, since
            # data/synthetic/<model> goes to the shared remote (models/holdout.py)
            rows = synth.reference_rows(n, seed=chunk_seed(seed, 0))
            save_reference(SYNTHETIC / model, PROCESSED / synth.fit_split, rows)
            n = len(rows)
        else:
            n = sample_to_parquet(synth, n, SYNTHETIC / model, seed=seed, chunk_size=chunk_size)
    rate = n / max(cost["sample_seconds"], 1e-9)
    write_json(
        SAMPLE_METRICS / f"{model}.json",
        {**cost, "n_sampled": n, "customers_per_second": round(rate, 1)},
    )


if __name__ == "__main__":
    run(*sys.argv[1:])
