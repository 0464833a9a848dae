"""Is the ranking stable under a change of seed? → reports/seed_stability.md (run by hand).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/seed_stability.py --seeds 0 1 2 [--n 600]

One simulated portfolio and one split (the data are fixed: the question is the method's
randomness, not the sample's); for every seed, each model is fitted with ``seed``, sampled with
``1000 + seed`` and evaluated with ``evaluate.seed = seed`` (subsamples, folds, attacks), then
the meta-metric ranks that seed's models. Sizes and budgets are the quick profile's
(``profiles/quick.yaml``: the cheap models independent, gaussian_copula, tvae with its 30-epoch
budget, and the holdout reference), so the whole run takes minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "reports" / "seed_stability.md"
MODELS = ("independent", "gaussian_copula", "tvae", "holdout")


def run(seeds: list[int], n: int | None, profile: Path) -> tuple[pd.DataFrame, dict]:
    from acacia.data.simulator import SimulatorConfig, simulate_portfolio, temperature
    from acacia.data.splits import split_portfolio
    from acacia.evaluation.evaluate import evaluate
    from acacia.evaluation.metametric import meta_metric
    from acacia.models import make_model

    params = yaml.safe_load(profile.read_text())
    sim = dict(params["simulate"]["simulated"])
    if n is not None:
        sim["n_customers"] = n
    cfg = SimulatorConfig.from_params(sim)
    splits = split_portfolio(simulate_portfolio(cfg), params["prepare"]["split"], seed=params["prepare"]["seed"])
    weather = temperature(cfg)
    rows, timings = [], {}
    for seed in seeds:
        per_seed = []
        for m in MODELS:
            t0 = time.perf_counter()
            model = make_model(m, {**params["train"]["models"][m], **({"seed": seed} if m != "holdout" else {})})
            fitted = model.fit(splits[model.fit_split])
            syn = fitted.sample(len(splits["train"]), seed=1000 + seed)
            metrics, _ = evaluate(splits["train"], splits["holdout"], splits["test"], syn,
                                  {**params["evaluate"], "seed": seed}, synthetic_is_holdout=m == "holdout",
                                  temperature=weather)
            timings[(seed, m)] = time.perf_counter() - t0
            print(f"seed {seed} {m}: {timings[(seed, m)]:.1f} s", flush=True)
            per_seed.append({"model": m, **metrics})
        t = meta_metric(pd.DataFrame(per_seed), params["compare"]["weights"])
        rows.append(t.assign(seed=seed))
    info = {"n_customers": cfg.n_customers, "n_train": len(splits["train"]),
            "seconds": sum(timings.values()), "profile": profile.relative_to(ROOT).as_posix()}
    return pd.concat(rows, ignore_index=True), info


def render(table: pd.DataFrame, info: dict, seeds: list[int], command: str) -> str:
    from acacia.evaluation.metametric import PILLARS
    from acacia.evaluation.stability import ranking_changes, ranks_per_seed, seed_spread

    scores = ["overall", *[f"pillar.{p}" for p in PILLARS if f"pillar.{p}" in table]]
    spread = seed_spread(table, scores)
    changes = ranking_changes(table)
    ranks = ranks_per_seed(table).reindex(changes["mean_order"])
    lines = [
        "# Ranking stability under a change of seed",
        "",
        f"Measured with `{command}` ({info['seconds']:.0f} s of fit + sample + evaluate in all).",
        f"Data: one simulated portfolio of {info['n_customers']:,} customers (weekly series), one split "
        f"({info['n_train']:,} training customers); sizes, budgets and evaluation settings of "
        f"`{info['profile']}`. Per seed s ∈ {seeds}: models fitted with seed s, sampled with 1000 + s, "
        "evaluated with `evaluate.seed` = s, ranked by the meta-metric of that seed's models.",
        "",
        "## Meta-metric per model: mean ± standard deviation over seeds [min, max]",
        "",
        "| model | " + " | ".join(scores) + " |",
        "| --- | " + " | ".join("---" for _ in scores) + " |",
    ]
    for _, r in spread.iterrows():
        cells = [f"{r[f'{s}.mean']:.3f} ± {r[f'{s}.std']:.3f} [{r[f'{s}.min']:.3f}, {r[f'{s}.max']:.3f}]"
                 for s in scores]
        lines.append(f"| {r['model']} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Rank of each model per seed (1 = best)",
        "",
        "| model | " + " | ".join(f"seed {s}" for s in ranks.columns) + " | rank range |",
        "| --- | " + " | ".join("---" for _ in ranks.columns) + " | --- |",
    ]
    for m, r in ranks.iterrows():
        lines.append(f"| {m} | " + " | ".join(str(v) for v in r) + f" | {changes['rank_range'][m]} |")
    verdict = ("the ranking changes between seeds" if changes["changes"]
               else "the ranking is the same for every seed")
    lines += [
        "",
        f"Result: {verdict}; smallest Kendall τ between a seed's ranking and the ranking of the mean "
        f"`overall`: {changes['min_kendall_tau']:.3f} (1 = identical order). Order of the mean: "
        + ", ".join(f"`{m}`" for m in changes["mean_order"]) + ".",
        "",
        "Reading: the holdout reference scores 1 on every pillar by construction (it is the "
        "reference each metric is rescaled against), so its spread is 0; a generator's spread "
        "combines its own training and sampling randomness with the evaluation's subsamples, "
        "cross-validation folds and attack draws.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--n", type=int, default=None, help="customers to simulate (default: the profile's)")
    ap.add_argument("--profile", type=Path, default=ROOT / "profiles" / "quick.yaml")
    ap.add_argument("--report", type=Path, default=REPORT)
    a = ap.parse_args()
    if len(a.seeds) < 3:
        ap.error("--seeds: at least 3 seeds, or the spread means little")
    table, info = run(a.seeds, a.n, a.profile.resolve())
    command = "benchmarks/seed_stability.py --seeds " + " ".join(map(str, a.seeds)) + (f" --n {a.n}" if a.n else "")
    if a.report != REPORT:
        command += f" --report {a.report}"
    from acacia.data.schema import atomic_write_text

    atomic_write_text(a.report, render(table, info, a.seeds, command))
    print(a.report.read_text())


if __name__ == "__main__":
    main()
