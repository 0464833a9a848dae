"""One rank of a 2-process torchrun launch (tests/test_distributed.py); rank 0 saves the result.

Usage: torchrun --standalone --nproc_per_node 2 tests/ddp_worker.py {loop|tvae_variant} OUT
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))

from acacia.training.loop import TrainConfig, fit, is_main_process  # noqa: E402


def main(mode: str, out: str) -> None:
    if mode == "loop":
        from test_distributed import CFG, make_problem, mse

        net, data = make_problem()
        res = fit(net, mse, data, TrainConfig(**{**CFG, "distributed": True}))
        if is_main_process():
            torch.save({"state": net.state_dict(), "history": res.history,
                        "world": torch.distributed.get_world_size()}, out)
    else:
        from acacia.models import make_model
        from conftest import make_tiny_portfolio

        model = make_model("tvae_variant", {"seed": 0, "training": {"max_epochs": 3, "batch_size": 64,
                                                            "progress": False, "distributed": True}})
        model.fit(make_tiny_portfolio())
        if is_main_process():
            model.save(out)
    torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main(*sys.argv[1:])
