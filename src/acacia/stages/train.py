"""Stage ``train@<model>``: fit one synthesizer on its split and save it under models/<model>."""

from __future__ import annotations

import sys

from acacia.data.portfolio import Portfolio
from acacia.frugality import track
from acacia.models import make_model
from acacia.params import get, load_params
from acacia.paths import MODELS, PROCESSED, TRAIN_METRICS, staged_dir, write_json


def run(params_path: str, model: str) -> None:
    params = load_params(params_path)
    model_params = get(params, f"train.models.{model}", dict, default=None)
    if model_params is None:
        model_params = {}
        get(params, f"train.models.{model}")  # raises: names the missing key
    synth = make_model(model, model_params)
    data = Portfolio.load(PROCESSED / synth.fit_split)
    with track("train", enabled=get(params, "frugality.track", bool, default=True)) as cost:
        synth.fit(data)
    with staged_dir(MODELS / model) as tmp:
        synth.save(tmp)
    write_json(TRAIN_METRICS / f"{model}.json", {**cost, "n_fit": len(data)})


if __name__ == "__main__":
    run(*sys.argv[1:])
