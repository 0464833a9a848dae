"""Stage ``prepare``: load the selected dataset, validate it, split it by customer."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from acacia.data.loaders import (
    calendar_file,
    input_folder,
    load_calendar,
    load_source,
    load_temperature,
    temperature_file,
)
from acacia.data.portfolio import write_parquet
from acacia.data.splits import check_fractions, split_portfolio, split_with_fixed_test
from acacia.params import get, load_params
from acacia.paths import CALENDAR_FILE, PROCESSED, TEMPERATURE_FILE, staged_dir


def run(params_path: str = "params.yaml") -> None:
    params = load_params(params_path)
    data_cfg = get(params, "data", dict)
    seed = get(params, "prepare.seed", int)
    fractions = check_fractions(get(params, "prepare.split", dict))
    stratify = get(params, "prepare.stratify", str, default=None)
    sources = load_source(data_cfg, Path.cwd())
    if "test" in sources:
        # A dataset with an official test split (Adult) keeps it, as in the published tables.
        holdout_fraction = fractions["holdout"] / (fractions["train"] + fractions["holdout"])
        splits = split_with_fixed_test(sources["train"], sources["test"], holdout_fraction, seed,
                                       stratify=stratify)
    else:
        splits = split_portfolio(sources["all"], fractions, seed, stratify=stratify)
    weather = temperature_file(input_folder(data_cfg, Path.cwd())[1])
    # Read before anything is written: a malformed table fails the stage, not a later one.
    temperature = load_temperature(weather) if weather is not None else None
    days = calendar_file(input_folder(data_cfg, Path.cwd())[1])
    calendar = load_calendar(days) if days is not None else None
    with staged_dir(PROCESSED) as tmp:
        for name, part in splits.items():
            part.validate(source=f"{name} split")
            part.save(tmp / name)
        next(iter(splits.values())).schema.save(tmp / "schema.json")
        # Weather is not customer data: the studies and the thermosensitivity metric read it here.
        if weather is not None and weather.suffix == ".parquet":
            shutil.copyfile(weather, tmp / TEMPERATURE_FILE)  # as is: the split's hash stays put
        elif temperature is not None:
            write_parquet(temperature, tmp / TEMPERATURE_FILE)
        if calendar is not None:
            write_parquet(calendar, tmp / CALENDAR_FILE)


if __name__ == "__main__":
    run(*sys.argv[1:])
