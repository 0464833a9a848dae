"""Stage ``train@<model>``: fit one synthesizer on its split and save it under models/<model>."""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pandas as pd

import acacia
from acacia.data.portfolio import Portfolio
from acacia.data.schema import atomic_write_text
from acacia.frugality import track
from acacia.models import make_model
from acacia.params import get, load_params
from acacia.paths import (
    CHECKPOINTS,
    MODELS,
    PROCESSED,
    TRAIN_METRICS,
    file_digest,
    staged_dir,
    write_json,
)
from acacia.training.loop import is_main_process
from acacia.training.results import training_result

CURVE_COLUMNS = ["epoch", "train_loss", "val_loss", "lr"]
#: the code the train stage of a model runs, under src/acacia (its code deps in dvc.yaml): a
#: checkpoint written by other code is not resumed.
TRAINING_CODE = ("models/{model}.py", "models/__init__.py", "models/base.py", "models/persist.py",
                 "models/blocks", "models/diffusion", "transforms", "training")
STAMP = "run.sha256"


def training_code(model: str) -> list[str]:
    """:data:`TRAINING_CODE` for one model."""
    return [c.format(model=model) for c in TRAINING_CODE]


def run_fingerprint(model_params: dict[str, Any], data_dir: Path, model: str) -> str:
    """What a checkpoint belongs to: the model's params, the training split's files and the code."""
    h = hashlib.sha256(json.dumps(model_params, sort_keys=True, default=str).encode())
    package = Path(acacia.__file__).parent
    files = [(f.relative_to(data_dir), f) for f in sorted(Path(data_dir).rglob("*")) if f.is_file()]
    for sub in training_code(model):
        path = package / sub
        code = [path] if path.is_file() else sorted(path.rglob("*.py"))
        files += [(f.relative_to(package), f) for f in code]
    for name, path in files:
        h.update(str(name).encode())
        h.update(file_digest(path).encode())
    return h.hexdigest()


def prepare_checkpoint_dir(directory: Path, fingerprint: str) -> None:
    """Keep the checkpoints in ``directory`` only if the run that wrote them is this one.

    A killed ``dvc repro`` resumes from them; but DVC reruns the stage after any change to its
    params, data or code, and a checkpoint of that older run can only fail to load (other
    settings) or, worse, resume weights trained by other code. It is discarded, with a message.
    """
    directory = Path(directory)
    stamp = directory / STAMP
    if directory.exists() and (not stamp.exists() or stamp.read_text().strip() != fingerprint):
        print(f"train: discarding {directory}: written by a run with other params, data or code",
              file=sys.stderr)
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    atomic_write_text(stamp, fingerprint + "\n")


def run(params_path: str, model: str) -> None:
    params = load_params(params_path)
    model_params = get(params, f"train.models.{model}", dict, default=None)
    if model_params is None:
        get(params, f"train.models.{model}")  # raises: names the missing key
        model_params = {}
    synth = make_model(model, model_params)
    # A killed `dvc repro` resumes from here; the folder is not a DVC output.
    synth.checkpoint_dir = CHECKPOINTS / model
    # Models read the series as the customers × periods matrix (TableCodec): loading it so keeps
    # the long table (157 rows per weekly customer) out of memory.
    data = Portfolio.load(PROCESSED / synth.fit_split, as_matrix=True)
    # Under torchrun, rank 0 measures (its own process: codecarbon tracks by process) and writes;
    # the other ranks only train.
    main = is_main_process()
    if main:
        prepare_checkpoint_dir(synth.checkpoint_dir, run_fingerprint(model_params, PROCESSED / synth.fit_split, model))
    with track("train", enabled=main and get(params, "frugality.track", bool, default=True)) as cost:
        synth.fit(data)
    if not main:
        return
    with staged_dir(MODELS / model) as tmp:
        synth.save(tmp)
    shutil.rmtree(synth.checkpoint_dir, ignore_errors=True)

    record = {**cost, "n_fit": len(data)}
    result = training_result(synth)
    curve = pd.DataFrame(result.history if result else [], columns=CURVE_COLUMNS)
    if result:
        record.update(best_epoch=result.best_epoch, stopped_epoch=result.stopped_epoch,
                      max_epochs=result.max_epochs, epochs_saved=result.epochs_saved)
        if "train_energy_kwh" in cost and result.stopped_epoch:
            # Energy early stopping spared, at the measured energy per epoch.
            per_epoch = cost["train_energy_kwh"] / result.stopped_epoch
            record["energy_saved_kwh"] = per_epoch * result.epochs_saved
    atomic_write_text(TRAIN_METRICS / f"{model}_curve.csv", curve.to_csv(index=False))
    write_json(TRAIN_METRICS / f"{model}.json", record)


if __name__ == "__main__":
    run(*sys.argv[1:])
