"""What MTabGen's encoder-decoder costs on the default table, per token layout and width.

Run by hand from the project root after `acacia prepare` (or point ``--train`` at any prepared
split):

    OMP_NUM_THREADS=1 .venv/bin/python experiments/2026-12-scale/mtabgen_cost.py --train data/processed/train

For each configuration (series patch size, token width), times a few training steps on batches of
256 rows (mixed conditional / unconditional, forward + backward + AdamW) and a few unconditional
network evaluations on 256 rows, and extrapolates to one epoch of the split (train share 0.9)
and to sampling 8,000 customers with 25 Heun steps (49 evaluations) and with 1,000 ancestral
steps (TabDDPM's default T). Network evaluations only: the sampler's own work and decoding
come on top (end to end, 8,000 customers at 15 steps took 69 s on one thread). Wall and CPU
seconds are both recorded: on a shared machine the wall time mostly measures the other jobs.
Writes mtabgen_cost.md next to this script (or ``--out``).
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
REPORT = HERE / "mtabgen_cost.md"
# (series_patch, d_token, n_heads)
CONFIGS = [(1, 16, 2), (1, 32, 4), (8, 16, 2), (8, 32, 4), (16, 16, 2)]


def measure(train_dir: Path, steps: int, seed: int) -> tuple[list[dict], int]:
    from acacia.data.portfolio import Portfolio
    from acacia.models import make_model
    from acacia.models.diffusion.masked import MaskedConditionDiffusion
    from acacia.transforms.table import TableCodec
    from acacia.transforms.tensor import CodesCodec

    portfolio = Portfolio.load(train_dir)
    # The model's own codec set-up and token layout, without training it.
    probe = make_model("mtabgen", {"seed": seed})
    probe.codec_ = TableCodec("flat").fit(portfolio)
    table = probe.codec_.to_table(portfolio)
    probe.codes_ = CodesCodec().fit(table, probe.codec_.kinds)
    num, codes = probe.codes_.transform(table)
    data = torch.from_numpy(np.concatenate([num, codes.astype(np.float32)], 1))
    batch = data[torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:256]]
    rows = []
    for patch, d_token, heads in CONFIGS:
        probe.series_patch = patch
        torch.manual_seed(seed)
        net = MaskedConditionDiffusion(len(probe.codes_.numeric_), probe.codes_.n_levels, probe.codes_.attach,
                                       probe._num_token(), d_token=d_token, n_heads=heads)
        opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.0)
        net.train()
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(steps):
            loss = net.loss(batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
        step_wall, step_cpu = (time.perf_counter() - wall) / steps, (time.process_time() - cpu) / steps
        net.eval()
        x, c = batch[:, : net.n_num], batch[:, net.n_num :].long()
        t, s = torch.full((256, 1), 0.5), torch.ones(256, net.n_num)
        with torch.no_grad():
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(steps):
                net.denoise(x, c, t, s)
            eval_wall, eval_cpu = (time.perf_counter() - wall) / steps, (time.process_time() - cpu) / steps
        steps_per_epoch = int(np.ceil(0.9 * len(data) / 256))
        per_8000 = 8000 / 256
        rows.append({"series_patch": patch, "d_token": d_token, "n_heads": heads, "tokens": net.n_tokens,
                     "epoch_cpu_s": step_cpu * steps_per_epoch, "epoch_wall_s": step_wall * steps_per_epoch,
                     "sample8k_49_cpu_s": eval_cpu * per_8000 * 49, "sample8k_49_wall_s": eval_wall * per_8000 * 49,
                     "sample8k_1000_cpu_s": eval_cpu * per_8000 * 1000})
        print(rows[-1], flush=True)
    return rows, len(data)


def render(rows: list[dict], n_rows: int, steps: int) -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        "# MTabGen: cost of the encoder-decoder on the default table",
        "",
        f"`experiments/2026-12-scale/mtabgen_cost.py`: {n_rows:,} training customers, flat weekly series; {steps} timed "
        f"training steps (batches of 256) and {steps} timed unconditional evaluations (256 rows) per "
        f"configuration, extrapolated; torch threads {torch.get_num_threads()}, load average {load:.1f} "
        "when written (a shared machine: wall time includes other jobs, CPU time much less so).",
        "",
        "| series patch | token width | heads | tokens | epoch CPU s | epoch wall s | sample 8k, 49 evals, CPU s "
        "| wall s | sample 8k, 1,000 steps, CPU s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(f"| {r['series_patch']} | {r['d_token']} | {r['n_heads']} | {r['tokens']} | "
                     f"{r['epoch_cpu_s']:.1f} | {r['epoch_wall_s']:.1f} | {r['sample8k_49_cpu_s']:.0f} | "
                     f"{r['sample8k_49_wall_s']:.0f} | {r['sample8k_1000_cpu_s']:.0f} |")
    lines += ["", "Default: patch 8, width 16, 2 heads (see `src/acacia/models/mtabgen.py`)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=ROOT / "data" / "processed" / "train")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=REPORT)
    args = parser.parse_args()
    rows, n_rows = measure(args.train, args.steps, args.seed)
    from acacia.data.schema import atomic_write_text

    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, render(rows, n_rows, args.steps))


if __name__ == "__main__":
    main()
