"""Sampling speed of the trained diffusion models against sampler settings, and what it costs.

Run by hand after `dvc repro` (it loads `models/<model>/`, never trains), from the project root:

    .venv/bin/python experiments/2026-12-scale/diffusion_sampling.py --models tabdiff --n 2000
    .venv/bin/python experiments/2026-12-scale/diffusion_sampling.py --models tabdiff --n 100000 \
        --configs steps20
    .venv/bin/python experiments/2026-12-scale/diffusion_sampling.py --models tabddpm --n 8000
    .venv/bin/python experiments/2026-12-scale/diffusion_sampling.py --render-only

(``steps20`` is the default pipeline's TabDiff sampler: params.yaml, ``num_timesteps: 20``; the
rows drawn in chunks of ``sample_batch_size`` rows, as the model is configured.)

For each sampler configuration (steps, Heun's correction), draws ``n`` customers with their
weekly series and records the wall time, customers per second, the time 100,000 customers would
take at that rate, and the static + series-summary fidelity of the draw against the train split
(Shape and Trend means of :mod:`acacia.evaluation.fidelity`, on the analysis table that
`evaluate` uses, equal sizes). One JSON per (model, config, n, trained model) in
diffusion_sampling/ next to this script; diffusion_sampling.md, beside it, is rendered from all
of them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

from acacia.runs import model_sha, shape_trend

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT_DIR = HERE / "diffusion_sampling"
REPORT = HERE / "diffusion_sampling.md"
# name: (sampling steps, Heun's second-order correction). TabDiff's sampler is continuous-time:
# any number of steps. TabDDPM's is its trained discrete chain (T = 100 in params.yaml), ``all``
# of it or respaced through fewer steps (``sample_steps``); it has no second-order correction.
CONFIGS = {
    "tabdiff": {"paper": (50, True), "steps25": (25, True), "steps20": (20, True),
                "steps20_euler": (20, False), "fast": (10, False)},
    "tabddpm": {"all": (None, False), "respaced50": (50, False), "respaced20": (20, False),
                "respaced10": (10, False)},
}


def configure(model, model_name: str, config: str) -> tuple[int, bool, int]:
    """Set the sampler of ``model`` to ``config``; returns (steps, Heun, chunk size)."""
    if config not in CONFIGS.get(model_name, {}):
        raise SystemExit(f"--configs: {config!r} is not a config of {model_name}; expected some of "
                         f"{sorted(CONFIGS.get(model_name, {}))}")
    steps, heun = CONFIGS[model_name][config]
    if model_name == "tabddpm":
        model.set_params(sample_steps=steps)
        return steps or model.num_timesteps, False, model.sample_batch_size
    # The sampler is rebuilt from the model's params at every draw: set them, not its attributes.
    model.set_params(num_timesteps=steps, second_order=heun)
    return steps, heun, model.sample_batch_size


def run(model_name: str, config: str, n: int, seed: int) -> dict:
    from acacia.data.portfolio import Portfolio
    from acacia.models import Synthesizer

    folder = ROOT / "models" / model_name
    model = Synthesizer.load(folder)
    # Which trained model was timed: rows of earlier trainings stay in the report beside it.
    sha = model_sha(folder)
    steps, heun, chunk_size = configure(model, model_name, config)
    t = time.perf_counter()
    syn = model.sample(n, seed=seed)
    seconds = time.perf_counter() - t
    shape, trend = shape_trend(Portfolio.load(ROOT / "data" / "processed" / "train"), syn, seed=seed)
    return {
        "model": model_name, "config": config, "steps": steps, "heun": heun, "n": n,
        "seconds": round(seconds, 1), "customers_per_second": round(n / seconds, 1),
        "minutes_per_100k": round(100_000 / (n / seconds) / 60, 1),
        "shape_mean": round(shape, 4),
        "trend_mean": round(trend, 4),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "cpu_count": os.cpu_count(),
        "chunk_size": chunk_size,
        "model_sha": sha,
    }


def render() -> None:
    rows = [json.loads(p.read_text()) for p in sorted(OUT_DIR.glob("*.json"))]
    rows.sort(key=lambda r: (r["model"], r["n"], -r["steps"], not r["heun"]))
    lines = [
        "# Diffusion sampling: speed against sampler settings",
        "",
        "`experiments/2026-12-scale/diffusion_sampling.py`, on the models trained by the default `dvc repro`",
        "(2 CPU cores, torch CPU build). Shape / Trend: means over the analysis table (static",
        "columns + series summaries) against the train split at equal size, as `evaluate` computes",
        "them. `paper` is TabDiff's sampler (50 steps, Heun's correction: 99 network calls per",
        "row); the others trade steps for speed. TabDDPM's `all` is its trained chain (T steps, one",
        "network call each), `respacedK` the same model through K evenly spaced steps. *model file*:",
        "the first digits of the SHA-256 of the timed model's files in `models/<model>/` (of its",
        "`model.pkl` for rows timed before models were saved as `state.json` + `arrays.npz` +",
        "`tensors.pt`; rows without one timed an earlier training, drawn in chunks of 4,096 rows).",
        "",
        "| model | model file | config | steps | Heun | chunk | customers | seconds | customers/s | min per 100k | "
        "Shape | Trend | peak RSS (MiB) |",
        "| --- | --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(f"| {r['model']} | {r.get('model_sha', 'earlier')} | {r['config']} | {r['steps']} | "
                     f"{'yes' if r['heun'] else 'no'} | {r.get('chunk_size', 4096):,} | "
                     f"{r['n']:,} | {r['seconds']} | {r['customers_per_second']} | {r['minutes_per_100k']} | "
                     f"{r['shape_mean']:.4f} | {r['trend_mean']:.4f} | {r['peak_rss_mib']} |")
    REPORT.write_text("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=["tabdiff"])
    ap.add_argument("--configs", nargs="+", default=None,
                    help="sampler configs (default: every config of each model): " +
                         "; ".join(f"{m}: {', '.join(c)}" for m, c in CONFIGS.items()))
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--render-only", action="store_true")
    args = ap.parse_args()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    if not args.render_only:
        for name in args.models:
            for config in args.configs or list(CONFIGS.get(name, {})):
                result = run(name, config, args.n, args.seed)
                print(result, flush=True)
                stem = f"{name}_{config}_{args.n}_{result['model_sha']}"
                (OUT_DIR / f"{stem}.json").write_text(json.dumps(result, indent=1) + "\n")
    render()


if __name__ == "__main__":
    main()
