"""How wide are a trained diffusion model's numerical scores, per number of sampling steps?

TabDiff and CausalDiffTab generate every numerical column as a quantile-normal score, so a
faithful sampler returns scores with mean 0 and standard deviation 1 (the training data's, by
construction, with ``dequantize``). A standard deviation above 1 is a too-wide marginal: for an
integer column with a dominant value (0 payment incidents, 1-2 persons a household) it shows as
too many rows in the tail, which the logistic detector reads as a shifted mean. This draws raw
scores from the pipeline's trained model (``models/<model>``) at each step count (and churn, the
sampler's S_churn) and prints, per column, mean / standard deviation, plus the time taken (to
the terminal: it writes no report). Run by hand from the project root after ``dvc repro``:

    .venv/bin/python experiments/2026-12-scale/score_dispersion.py [--model tabdiff] [--steps 20 50] \\
        [--churn 1 8] [--n 4000]
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    from acacia.models import Synthesizer
    from acacia.models.diffusion.synthesizer import MixedDiffusionSynthesizer

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="tabdiff", help="a trained TabDiff-family model under models/")
    ap.add_argument("--steps", type=int, nargs="+", default=[20, 50])
    ap.add_argument("--churn", type=float, nargs="+", default=None,
                    help="S_churn values (the model's own when not given)")
    ap.add_argument("--n", type=int, default=4000, help="rows drawn per step count")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if args.churn is not None and any(c < 0 for c in args.churn):
        ap.error("--churn: expected values >= 0")
    synth = Synthesizer.load(ROOT / "models" / args.model)
    if not isinstance(synth, MixedDiffusionSynthesizer):
        raise SystemExit(f"--model {args.model}: expected a TabDiff-family model (tabdiff, causal_diff_tab)")
    names = list(synth.codes_.numeric_)
    churns = args.churn or [synth.churn]
    for steps, churn in itertools.product(args.steps, churns):
        # The sampler is rebuilt from the model's params at every access: set them, not its attributes.
        synth.set_params(num_timesteps=steps, churn=churn)
        start = time.perf_counter()
        num, _ = synth.sampler.sample(synth.net_, args.n, torch.Generator().manual_seed(args.seed), None)
        seconds = time.perf_counter() - start
        num = num.numpy()
        sd = num.std(axis=0)
        print(f"{args.model}, {steps} steps, churn {churn:g}, {args.n} rows in {seconds:.1f} s: standard deviation "
              f"mean {sd.mean():.3f}, median {np.median(sd):.3f}")
        print("   " + ", ".join(f"{c} {m:+.2f}/{s:.2f}" for c, m, s in zip(names, num.mean(axis=0), sd, strict=True)))


if __name__ == "__main__":
    main()
