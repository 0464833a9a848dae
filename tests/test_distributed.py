"""Multi-process training through torchrun + DistributedDataParallel, on CPU with gloo."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from acacia.errors import ParamsError
from acacia.models import Synthesizer
from acacia.training.loop import TrainConfig, fit

HERE = Path(__file__).parent
# No dropout and a deterministic loss: one process and two must then follow the same path.
CFG = {"max_epochs": 8, "batch_size": 32, "lr": 1e-2, "patience": 100, "progress": False}


def make_problem(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(256, 4, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [0.0]]) + 0.1 * torch.randn(256, 1, generator=g)
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1)), torch.cat([x, y], dim=1)


def mse(module, batch):
    return ((module(batch[:, :4]) - batch[:, 4:]) ** 2).mean()


def torchrun(mode: str, out: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(HERE.parent / "src")}
    res = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         str(HERE / "ddp_worker.py"), mode, str(out)],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]


def test_two_processes_follow_the_single_process_run(tmp_path):
    """Each rank takes half of every batch; DDP averages the gradients: the same updates."""
    torchrun("loop", tmp_path / "ddp.pt")
    ddp = torch.load(tmp_path / "ddp.pt", weights_only=False)
    assert ddp["world"] == 2
    net, data = make_problem()
    single = fit(net, mse, data, TrainConfig(**CFG))
    assert [r["epoch"] for r in ddp["history"]] == [r["epoch"] for r in single.history]
    for a, b in zip(ddp["history"], single.history, strict=True):
        assert a["val_loss"] == pytest.approx(b["val_loss"], rel=1e-4)
    for name, value in net.state_dict().items():
        assert torch.allclose(ddp["state"][name], value, atol=1e-5), name


def test_a_synthesizer_trains_under_torchrun(tmp_path, tiny_portfolio):
    torchrun("tvae_variant", tmp_path / "tvae")
    out = Synthesizer.load(tmp_path / "tvae").sample(50, seed=0)
    out.validate("synthetic")
    assert list(out.customers.columns) == list(tiny_portfolio.customers.columns)


def test_distributed_without_torchrun_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    net, data = make_problem()
    with pytest.raises(ParamsError, match="torchrun"):
        fit(net, mse, data, TrainConfig(**{**CFG, "distributed": True}))
