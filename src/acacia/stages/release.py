"""``acacia release <model>``: package data/synthetic/<model> with its data card into
releases/<model>, or refuse, naming the failing check.

Not a pipeline stage: a release is a decision taken on an evaluated, up-to-date pipeline, so it
refuses a model whose ``evaluate@<model>`` (or anything upstream) is not up to date in
``dvc.lock``, a model that is real data (the ``holdout`` reference), and a portfolio flagged by a
privacy check (:mod:`acacia.release`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from acacia.errors import DataError
from acacia.models import Synthesizer
from acacia.params import get, load_params
from acacia.paths import METRICS, MODELS, RELEASES, SYNTHETIC
from acacia.release import (
    ReleaseRefused,
    build_datacard,
    check_releasable,
    contents_of,
    release_config,
    write_release,
)

LOCK = Path("dvc.lock")


def _stages(model: str) -> list[str]:
    return [f"train@{model}", f"sample@{model}", f"evaluate@{model}"]


def _git(*args: str) -> str | None:
    try:
        res = subprocess.run(["git", *args], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return res.stdout.strip()


def revisions(model: str, lock: dict[str, Any]) -> dict[str, Any]:
    """Git commit and the dvc.lock hash of every input and output of the model's stages."""
    import dvc

    hashes: dict[str, str] = {}
    for stage in _stages(model):
        entry = lock.get(stage, {})
        for item in [*entry.get("deps", []), *entry.get("outs", [])]:
            if "md5" in item:
                hashes[item["path"]] = item["md5"]
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {"git_commit": _git("rev-parse", "HEAD"), "git_dirty": bool(status) if status is not None else None,
            "dvc_version": dvc.__version__, "dvc_lock": hashes}


def recorded_params(model: str, lock: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for stage in _stages(model):
        out.update(lock.get(stage, {}).get("params", {}).get("params.yaml", {}))
    return out


def _check_up_to_date(model: str) -> dict[str, Any]:
    if not LOCK.is_file():
        raise DataError(f"{LOCK} not found: run `dvc repro evaluate@{model}` in the project root first")
    lock = (yaml.safe_load(LOCK.read_text()) or {}).get("stages", {})
    missing = [s for s in _stages(model) if s not in lock]
    if missing:
        raise DataError(f"{LOCK} has no record of {missing}: run `dvc repro evaluate@{model}` first")
    from dvc.repo import Repo

    with Repo(".") as repo:
        stale = repo.status(targets=[f"evaluate@{model}"], with_deps=True)
    if stale:
        raise ReleaseRefused(
            f"'{model}' is not released: its evidence is out of date ({', '.join(sorted(stale))} "
            f"changed since dvc.lock): run `dvc repro evaluate@{model}` first"
        )
    return lock


def run(params_path: str, model: str) -> None:
    params = load_params(params_path)
    cfg = release_config(get(params, "release", dict, default={}))
    metrics_path, synthetic_dir = METRICS / f"{model}.json", SYNTHETIC / model
    for path in (MODELS / model, synthetic_dir, metrics_path):
        if not path.exists():
            raise DataError(f"{path} not found: run `dvc repro evaluate@{model}` first")
    synth = Synthesizer.load(MODELS / model)
    if synth.fit_split != "train":
        raise ReleaseRefused(f"'{model}' is not released: it returns real customers (the "
                             f"{synth.fit_split} split), not synthetic ones")
    lock = _check_up_to_date(model)
    metrics = json.loads(metrics_path.read_text())
    checks = check_releasable(model, metrics, cfg["privacy_thresholds"])
    generator = json.loads((MODELS / model / "model.json").read_text())
    card = build_datacard(
        model,
        {"name": generator["model"], "params": generator["params"]},
        recorded_params(model, lock),
        revisions(model, lock),
        metrics,
        checks,
        contents_of(synthetic_dir),
        cfg["known_limits"],
    )
    write_release(synthetic_dir, RELEASES / model, card)
    print(f"released {RELEASES / model} ({card['contents']['n_customers']} customers, "
          f"{len(checks)} privacy checks passed)")


if __name__ == "__main__":
    run(*sys.argv[1:])
