"""Helpers for benchmark and experiment scripts (``benchmarks/``, ``experiments/``).

What several of those scripts share: command-line overrides of a model's training loop, the quick
Shape / Trend check of a sample, the name of the trained model a measurement used, and a
description of the machine it ran on. No pipeline stage imports this module; heavy imports
(torch, the evaluation) happen inside the functions that need them.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import os
import platform
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    import torch

    from acacia.data.portfolio import Portfolio

#: The constructor arguments of a model that hold a :class:`~acacia.training.loop.TrainConfig`
#: section (the shared training loop's settings).
TRAINING_KEYS: tuple[str, ...] = ("training", "vae_training")


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` command-line items as a dict, each value read as YAML (``0.001`` → float,
    ``null`` → None); a ValueError names an item without ``=`` or without a key."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"expected KEY=VALUE, got '{item}'")
        out[key] = yaml.safe_load(value)
    return out


def with_training(model: str, model_params: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A copy of the registered model ``model``'s params with ``overrides`` set in each of its
    training-loop sections (:data:`TRAINING_KEYS` its constructor takes); an override of None
    removes the key, so the loop's default applies."""
    from acacia.models import make_model

    accepted = set(inspect.signature(type(make_model(model, {})).__init__).parameters)
    out = copy.deepcopy(model_params)
    for key in TRAINING_KEYS:
        if key in accepted:
            section = {**(out.get(key) or {}), **overrides}
            out[key] = {k: v for k, v in section.items() if v is not None}
    return out


def shape_trend(real: Portfolio, syn: Portfolio, seed: int = 0) -> tuple[float, float]:
    """Mean column Shape and mean pair Trend of two portfolios on their analysis tables, both cut
    to the smaller one's size (rows drawn at ``seed``): the evaluate stage's two fidelity means,
    without its other metrics."""
    import numpy as np

    from acacia.evaluation.features import analysis_table
    from acacia.evaluation.fidelity import column_pair_trends, column_shapes

    rng = np.random.default_rng(seed)
    (tr, kinds), (sy, _) = analysis_table(real), analysis_table(syn)
    m = min(len(tr), len(sy))
    tr = tr.iloc[rng.permutation(len(tr))[:m]].reset_index(drop=True)
    sy = sy.iloc[rng.permutation(len(sy))[:m]].reset_index(drop=True)
    shapes, trends = column_shapes(tr, sy, kinds), column_pair_trends(tr, sy, kinds)
    return float(np.mean(list(shapes.values()))), float(np.mean(list(trends.values())))


def model_sha(folder: str | Path) -> str | None:
    """The first 10 hex digits of the SHA-256 of a saved model's files (``state.json``,
    ``arrays.npz``, ``tensors.pt`` and its frames, in that order), naming which trained model a
    measurement used; None when ``folder`` holds no saved model."""
    from acacia.models import persist

    folder = Path(folder)
    if not (folder / persist.STATE_FILE).is_file():
        return None
    files = [folder / persist.STATE_FILE, folder / persist.ARRAYS_FILE, folder / persist.TENSORS_FILE,
             *sorted((folder / persist.FRAMES_DIR).glob("*.parquet"), key=lambda p: int(p.stem))]
    digest = hashlib.sha256()
    for path in files:
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def machine(device: torch.device) -> dict[str, Any]:
    """What a measurement ran on: CPU model and count, torch version and threads,
    ``OMP_NUM_THREADS``, the device (and the GPU's name on CUDA) and Python's version."""
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        names = [ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                 if ln.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    out = {"cpu": cpu, "cpu_count": os.cpu_count(), "torch": torch.__version__,
           "torch_threads": torch.get_num_threads(), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "unset"),
           "device": str(device), "python": platform.python_version()}
    if device.type == "cuda":
        out["gpu"] = torch.cuda.get_device_name(device)
    return out
