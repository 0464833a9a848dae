"""What TabDDPM costs on the default table, per MLP size: an epoch of training and sampling 8,000.

Run by hand from the project root after `acacia prepare` (or point ``--train`` at any prepared
split):

    OMP_NUM_THREADS=1 .venv/bin/python experiments/2026-12-scale/tabddpm_cost.py --train data/processed/train

For each MLP (the paper's tuned Adult MLP, the params.yaml default, narrower ones), times a few
training steps on batches of 256 (forward, backward, AdamW) and extrapolates to one epoch of the
split (train share 0.9), then times a 10-step ancestral chain on 1,000 rows and extrapolates to
8,000 customers at T = 100 (the default) and T = 1,000 (the paper's other value; the cost of a
step does not depend on T). Wall and CPU seconds are both recorded: on a shared machine the
wall time mostly measures the other jobs. Writes tabddpm_cost.md next to this script (or
``--out``).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
REPORT = HERE / "tabddpm_cost.md"
# (dim_t, MLP blocks): the paper's tuned Adult MLP, the params.yaml default, narrower ones
CONFIGS = [(128, (256, 1024, 1024, 1024, 1024, 256)), (512, (512, 512)), (128, (512, 512)), (128, (256, 256))]


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def measure(train_dir: Path, steps: int, seed: int) -> tuple[list[dict], int]:
    from acacia.data.portfolio import Portfolio
    from acacia.models.diffusion.gaussian_multinomial import GaussianMultinomialDiffusion
    from acacia.models.diffusion.mlp import MLPDenoiser
    from acacia.transforms.table import TableCodec
    from acacia.transforms.tensor import CodesCodec

    portfolio = Portfolio.load(train_dir)
    codec = TableCodec("flat").fit(portfolio)
    table = codec.to_table(portfolio)
    codes = CodesCodec().fit(table, codec.kinds)
    num, cat = codes.transform(table)
    data = torch.from_numpy(np.concatenate([num, cat.astype(np.float32)], 1))
    batch = data[torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:256]]
    n_levels = codes.n_levels
    d_in = num.shape[1] + sum(n_levels)
    rows = []
    for dim_t, layers in CONFIGS:
        torch.manual_seed(seed)
        net = GaussianMultinomialDiffusion(num.shape[1], n_levels, MLPDenoiser(d_in, layers, dim_t), 10,
                                           clip_denoised=float(np.abs(num).max()))
        opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.0)
        net.train()
        wall, cpu = _clock()
        for _ in range(steps):
            loss = net.loss(batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
        step_wall, step_cpu = (time.perf_counter() - wall) / steps, (time.process_time() - cpu) / steps
        wall, cpu = _clock()
        net.sample(1000, torch.Generator().manual_seed(seed))  # a 10-step chain
        # → one reverse step on 8,000 rows
        eval_wall, eval_cpu = (time.perf_counter() - wall) / 10 * 8, (time.process_time() - cpu) / 10 * 8
        steps_per_epoch = int(np.ceil(0.9 * len(data) / 256))
        rows.append({"dim_t": dim_t, "d_layers": list(layers), "params": sum(p.numel() for p in net.parameters()),
                     "epoch_cpu_s": step_cpu * steps_per_epoch, "epoch_wall_s": step_wall * steps_per_epoch,
                     "sample8k_100_cpu_s": eval_cpu * 100, "sample8k_100_wall_s": eval_wall * 100,
                     "sample8k_1000_cpu_s": eval_cpu * 1000})
        print(rows[-1], flush=True)
    return rows, len(data)


def render(rows: list[dict], n_rows: int, steps: int) -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        "# TabDDPM: cost of the MLP denoiser and the ancestral sampler on the default table",
        "",
        f"`experiments/2026-12-scale/tabddpm_cost.py`: {n_rows:,} training customers, flat weekly series; {steps} timed "
        f"training steps (batches of 256) per MLP, extrapolated to an epoch; a timed 10-step chain on 1,000 "
        f"rows, extrapolated to 8,000 customers; torch threads {torch.get_num_threads()}, load average "
        f"{load:.1f} when written (a shared machine: wall time includes other jobs, CPU time much less so).",
        "",
        "| dim_t | MLP blocks | parameters | epoch CPU s | epoch wall s | sample 8k, T = 100, CPU s | wall s "
        "| sample 8k, T = 1,000, CPU s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(f"| {r['dim_t']} | {r['d_layers']} | {r['params']:,} | {r['epoch_cpu_s']:.1f} | {r['epoch_wall_s']:.1f} | "
                     f"{r['sample8k_100_cpu_s']:.0f} | {r['sample8k_100_wall_s']:.0f} | "
                     f"{r['sample8k_1000_cpu_s']:.0f} |")
    lines += ["", "Default in params.yaml: dim_t 512, blocks [512, 512], T = 100 (see `src/acacia/models/tabddpm.py`)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=ROOT / "data" / "processed" / "train")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=REPORT)
    args = parser.parse_args()
    rows, n_rows = measure(args.train, args.steps, args.seed)
    from acacia.data.schema import atomic_write_text

    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, render(rows, n_rows, args.steps))


if __name__ == "__main__":
    main()
