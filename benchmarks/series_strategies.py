"""Series strategies × models × frequency → reports/series_strategies.md (run by hand).

    .venv/bin/python benchmarks/series_strategies.py --models gaussian_copula tabdiff tvae_variant \
        --strategies flat compressed two_stage --frequencies weekly daily --n 3000 \
        --budget '{"tabdiff": {"training": {"max_epochs": 60}}, "tvae_variant": {"training": {"max_epochs": 150}}}'

(the budget of reports/series_strategies.md, sized for TabDiff on flat series: its weekly row took
5,023 s for 60 epochs).

Each (frequency, model, strategy) runs in its own process, so the peak resident memory it
reports (``ru_maxrss``) is that run's alone; its metrics land in
``reports/series_strategies/<frequency>__<model>__<strategy>.json``, and the Markdown table is
rendered from every JSON present, so rows can be added later without rerunning the others.
The same simulated portfolio (seeded) is used for every row of a frequency.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "reports" / "series_strategies"
REPORT = ROOT / "reports" / "series_strategies.md"
# Columns of the table: (metric key, header, higher is better)
COLUMNS = [
    ("series.profile_quantile_nmae", "profile q-err", False),
    ("series.acf_distance", "ACF dist", False),
    ("series.annual_total_ks", "annual KS", False),
    ("series.winter_summer_error", "W/S err by heating", False),
    ("series.thermo_error", "thermo err by heating", False),
    ("series.detection_score", "series detection", True),
    ("series.next_step_score", "next-step", True),
    ("fidelity.shape_mean", "shape (static)", True),
    ("fidelity.trend_mean", "trend (static)", True),
    ("detection.lightgbm", "detection (all)", True),
    # the share of the longitudinal study's conclusions the portfolio keeps (params.yaml's study)
    ("study.conclusions_preserved", "study kept", True),
]
SERIES_KEYS = [c for c in COLUMNS[:7]]


def run_one(frequency: str, model: str, strategy: str, n: int, budget: dict) -> dict:
    """Fit, sample and evaluate one combination in this process; returns its record."""
    import tempfile

    import pandas as pd

    from acacia.data.simulator import SimulatorConfig, _calendar, simulate_portfolio, temperature
    from acacia.data.splits import split_portfolio
    from acacia.evaluation.evaluate import evaluate
    from acacia.models import make_model
    from acacia.params import load_params
    from acacia.usecases.studies import compare_studies

    cfg = SimulatorConfig(n_customers=n, seed=0, frequency=frequency)
    splits = split_portfolio(simulate_portfolio(cfg), {"train": 0.5, "holdout": 0.3, "test": 0.2}, seed=0)
    temps = temperature(cfg)
    days = _calendar(cfg, temps)
    calendar = pd.DataFrame({"date": days["days"], "tempo_red": days["red"].astype(float)})
    project = load_params(str(ROOT / "params.yaml"))
    spec: str | dict = strategy
    tables = tempfile.mkdtemp(prefix="series_strategies.")
    if strategy == "responses":  # params.yaml's representation, its tables those of this portfolio
        temps.to_parquet(f"{tables}/temperature.parquet")
        calendar.to_parquet(f"{tables}/calendar.parquet")
        spec = {**project["series"]["responses"], "temperature": f"{tables}/temperature.parquet",
                "calendar": f"{tables}/calendar.parquet"}
    params = {"seed": 0, "series_representation": spec, **budget.get(model, {})}
    t0 = time.perf_counter()
    fitted = make_model(model, params).fit(splits["train"])
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    syn = fitted.sample(len(splits["train"]), seed=1)
    sample_s = time.perf_counter() - t0
    metrics, _ = evaluate(splits["train"], splits["holdout"], splits["test"], syn,
                          {"max_rows": 2000, "detection_folds": 3, "lightgbm": {"n_estimators": 100},
                           "series": {"group_by": "heating_energy", "zone_column": "climate_zone"}},
                          temperature=temps)
    _, study = compare_studies(splits["train"], {"synthetic": syn}, project["studies"]["longitudinal"], temps,
                               "longitudinal", calendar)
    metrics["study.conclusions_preserved"] = study["synthetic.conclusions_preserved"]
    epochs = getattr(getattr(fitted, "training_result_", None), "stopped_epoch", None)
    return {
        "frequency": frequency, "model": model, "strategy": strategy, "n_train": len(splits["train"]),
        "n_periods": splits["train"].schema.series.n_periods, "wide_columns": len(fitted.codec_.kinds),
        "fit_seconds": round(fit_s, 2), "sample_seconds": round(sample_s, 2), "epochs": epochs,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "measured": time.strftime("%Y-%m-%d"), "budget": budget.get(model, {}),
        "metrics": metrics,
    }


#: earlier registry names of a model, as older rows record them
RENAMED = {"tvae": "tvae_variant"}


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def render() -> str:
    everything = [json.loads(p.read_text()) for p in sorted(OUT.glob("*.json"))]
    for r in everything:  # rows measured before the model's registry name changed
        r["model"] = RENAMED.get(r["model"], r["model"])
    # A "probe" is a combination too costly to run in full: a few timed steps (see its note).
    records = [r for r in everything if not r.get("probe")]
    probes = [r for r in everything if r.get("probe")]
    lines = [
        "# Consumption series inside a tabular generator: four strategies",
        "",
        "Produced by `benchmarks/series_strategies.py` (run by hand, not by `dvc repro`): one",
        "simulated portfolio per frequency (seed 0; 50 % train / 30 % holdout / 20 % test by",
        "customer), each model fitted on train with each series representation, as many",
        "customers sampled as train, and scored by `acacia.evaluation.evaluate` (series metrics",
        "defined in `src/acacia/evaluation/series.py`; errors: lower is better; scores: higher).",
        "Peak memory is the run's own process peak RSS (simulation included). 2-core CPU.",
        "Training budget: each row's `--budget` is in its JSON; `epochs` is where it stopped.",
        "",
        "Strategies: **flat** = one column per period; **compressed** = level + 8 principal",
        "components of log(1+kWh) + noise scale + read window (13 columns whatever the length);",
        "**two_stage** = the model generates static attributes only, a conditional series",
        "generator (MLP on the static attributes → compressed coordinates, Gaussian residuals)",
        "draws the series; **responses** = the compressed columns plus each customer's responses",
        "to known inputs (degree days of his zone, the lockdowns, Tempo red days; params.yaml's",
        "`series.responses`, docs/series.md). *study kept*: the share of params.yaml's",
        "longitudinal study conclusions the synthetic portfolio keeps against the train split",
        "(rows measured before that column existed show –); it is not in the ranks below.",
        "",
    ]
    for freq in ("weekly", "daily"):
        rows = [r for r in records if r["frequency"] == freq]
        if not rows:
            continue
        lines += [f"## {freq.capitalize()} ({rows[0]['n_periods']} periods, {rows[0]['n_train']} train customers)", ""]
        head = ["model", "strategy", *[h for _, h, _ in COLUMNS], "wide cols", "epochs", "fit s", "sample s",
                "peak MiB", "measured"]
        lines += ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
        for r in sorted(rows, key=lambda r: (r["model"], r["strategy"])):
            vals = [_fmt(r["metrics"].get(k)) for k, _, _ in COLUMNS]
            lines.append("| " + " | ".join([r["model"], r["strategy"], *vals, str(r["wide_columns"]),
                                            _fmt(r.get("epochs")), _fmt(r["fit_seconds"]), _fmt(r["sample_seconds"]),
                                            _fmt(r["peak_rss_mib"]),
                                            # rows are added run by run: an undated one predates
                                            # the code of the dated ones
                                            r.get("measured", "earlier pass")]) + " |")
        notes = [f"- {r['model']} / {r['strategy']}: {r['note']}" for r in rows if r.get("note")]
        notes += [f"- {r['model']} / {r['strategy']} (not run in full): {r['note']}" for r in probes
                  if r["frequency"] == freq]
        lines += ["", *(["Notes on single rows:", "", *notes, ""] if notes else []), *recommendation(rows), ""]
    return "\n".join(lines) + "\n"


def recommendation(rows: list[dict]) -> list[str]:
    """Per model, the strategy with the best mean rank over the seven series metrics."""
    out = ["**What the numbers say** (mean rank over the seven series columns, 1 = best):", ""]
    wins: dict[str, int] = {}
    for model in sorted({r["model"] for r in rows}):
        mine = [r for r in rows if r["model"] == model]
        if len(mine) < 2:
            continue
        ranks = np.zeros(len(mine))
        for key, _, higher in SERIES_KEYS:
            vals = np.array([r["metrics"].get(key) if r["metrics"].get(key) is not None else np.nan for r in mine], float)
            vals = np.where(np.isnan(vals), -np.inf if higher else np.inf, vals)
            order = (-vals if higher else vals).argsort().argsort() + 1
            ranks += order
        ranks /= len(SERIES_KEYS)
        best = mine[int(ranks.argmin())]["strategy"]
        wins[best] = wins.get(best, 0) + 1
        desc = ", ".join(f"{r['strategy']} {k:.1f}" for r, k in sorted(zip(mine, ranks, strict=True), key=lambda x: x[1]))
        out.append(f"- {model}: {desc} → **{best}**.")
    if wins:
        top = max(wins, key=wins.get)
        out += ["", f"Recommendation at this resolution: **{top}** (best for {wins[top]} of {sum(wins.values())} models)."]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["gaussian_copula", "tvae_variant"])
    ap.add_argument("--strategies", nargs="+", default=["flat", "compressed", "two_stage"])
    ap.add_argument("--frequencies", nargs="+", default=["weekly", "daily"])
    ap.add_argument("--n", type=int, default=3000, help="simulated customers per frequency")
    ap.add_argument("--budget", default="{}", help='JSON per-model params, e.g. {"tvae_variant": {"training": {"max_epochs": 100}}}')
    ap.add_argument("--one", nargs=3, metavar=("FREQ", "MODEL", "STRATEGY"), help=argparse.SUPPRESS)
    ap.add_argument("--render-only", action="store_true")
    a = ap.parse_args()
    budget = json.loads(a.budget)
    if a.one:
        rec = run_one(*a.one, n=a.n, budget=budget)
        OUT.mkdir(parents=True, exist_ok=True)
        path = OUT / f"{a.one[0]}__{a.one[1]}__{a.one[2]}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(rec, indent=1))
        tmp.replace(path)
        return
    if not a.render_only:
        for freq in a.frequencies:
            for model in a.models:
                for strategy in a.strategies:
                    print(f"{freq} {model} {strategy}", flush=True)
                    subprocess.run([sys.executable, __file__, "--one", freq, model, strategy, "--n", str(a.n),
                                    "--budget", a.budget], check=True)
    tmp = REPORT.with_suffix(".md.tmp")
    tmp.write_text(render())
    tmp.replace(REPORT)
    print(REPORT)


if __name__ == "__main__":
    main()
