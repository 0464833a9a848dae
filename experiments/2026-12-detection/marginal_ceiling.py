"""Measures that read one column at a time, and the generators that copy the train marginals.

Shape (1 − KS / 1 − TVD per column) and the logistic detector (the papers' C2ST, linear on the
one-hot embedding, so it separates two samples only along features whose means differ) both read
the columns one at a time. A Gaussian copula and the independent baseline draw every static column
from the train split's own marginal, so on those measures they sit at, or beyond, the real holdout:
they reproduce the train sample itself, its sampling noise included, which fresh real customers do
not. This script splits each pipeline portfolio's Shape and its embedding's mean differences
(``detection_features.mean_differences``, against the train split) into the static columns and the
series features (functions of all of a customer's series columns at once), counts the static
columns on which each generator scores at least the holdout, and puts the measures of the joint
(Trend, LightGBM detection) beside them. The Adult rows of ``benchmarks/paper_comparison.py`` are
read back from ``reports/paper_comparison/*.json`` (not re-run). Reads the outputs of
``dvc repro``; run by hand from the project root (never in the test suite):

    .venv/bin/python experiments/2026-12-detection/marginal_ceiling.py [--models tabdiff gaussian_copula holdout]

→ ``marginal_ceiling.md`` next to this script. It imports ``detection_features.py`` from this
folder (Python puts a script's own folder first on its path).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
REPORT = HERE / "marginal_ceiling.md"
SERIES_PREFIX = "series_"  # analysis-table features computed from a customer's whole series
# Adult records of benchmarks/paper_comparison.py (a record keeps the model name it was run under)
ADULT_ROWS = ("real_test", "independent", "gaussian_copula", "tvae", "tvae_variant", "tabdiff")


def shape_split(shapes: pd.DataFrame, reference: pd.DataFrame) -> dict[str, float]:
    """Mean Shape over static columns and over series features, and the static columns on which
    ``shapes`` (a model's ``shapes.csv``) scores at least ``reference`` (the holdout's)."""
    s = shapes.set_index("column")["score"]
    r = reference.set_index("column")["score"].reindex(s.index)
    series = s.index.str.startswith(SERIES_PREFIX)
    return {"static": float(s[~series].mean()), "series": float(s[series].mean()),
            "n_static": int((~series).sum()), "n_series": int(series.sum()),
            "at_least_holdout": int((s[~series] >= r[~series]).sum())}


def unseen_shapes(unseen: pd.DataFrame, table: pd.DataFrame, kinds: dict[str, str], draws: int) -> tuple[float, float]:
    """Mean Shape of static columns and of series features against ``unseen`` (the test split's
    analysis table), ``table``'s rows subsampled to its size, averaged over ``draws`` subsamples."""
    from acacia.evaluation.evaluate import _same_size_index
    from acacia.evaluation.fidelity import column_shapes

    out = []
    for seed in range(draws):
        i_u, i_t = _same_size_index(len(unseen), len(table), np.random.default_rng(seed))
        s = pd.Series(column_shapes(unseen.iloc[i_u].reset_index(drop=True),
                                    table.iloc[i_t].reset_index(drop=True), kinds))
        series = s.index.str.startswith(SERIES_PREFIX)
        out.append((s[~series].mean(), s[series].mean()))
    static, series_mean = np.mean(out, axis=0)
    return float(static), float(series_mean)


def split_sum_of_squares(names: list[str], d: np.ndarray) -> tuple[float, float]:
    """Σ d² of the embedding features of static columns and of series features."""
    series = np.array([n.startswith(SERIES_PREFIX) for n in names])
    return float((d[~series] ** 2).sum()), float((d[series] ** 2).sum())


def main() -> None:
    from detection_features import mean_differences

    from acacia.data.portfolio import Portfolio
    from acacia.data.schema import atomic_write_text
    from acacia.evaluation.features import analysis_table
    from acacia.paths import METRICS, PLOTS, PROCESSED, SYNTHETIC

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", help="default: every model with metrics under reports/metrics")
    ap.add_argument("--draws", type=int, default=5, help="subsamples of each portfolio scored against the test split")
    args = ap.parse_args()
    models = args.models or sorted(p.stem for p in (ROOT / METRICS).glob("*.json"))
    missing = [m for m in models + ["holdout"] if not (ROOT / PLOTS / m / "shapes.csv").exists()]
    if missing:
        raise SystemExit(f"--models: no {PLOTS}/<model>/shapes.csv for {', '.join(missing)}; run `dvc repro` first")
    reference = pd.read_csv(ROOT / PLOTS / "holdout" / "shapes.csv")
    real_table, kinds = analysis_table(Portfolio.load(ROOT / PROCESSED / "train"))
    unseen_table, _ = analysis_table(Portfolio.load(ROOT / PROCESSED / "test"))
    rows = []
    for m in models:
        metrics = json.loads((ROOT / METRICS / f"{m}.json").read_text())
        split = shape_split(pd.read_csv(ROOT / PLOTS / m / "shapes.csv"), reference)
        side = ROOT / (PROCESSED / "holdout" if m == "holdout" else SYNTHETIC / m)
        syn_table, _ = analysis_table(Portfolio.load(side))
        static_d2, series_d2 = split_sum_of_squares(*mean_differences(real_table, syn_table, kinds))
        static_unseen, series_unseen = unseen_shapes(unseen_table, syn_table, kinds, args.draws)
        stage = {k: metrics.get(k) for k in ("fidelity.shape_mean", "fidelity.trend_mean", "detection.logistic",
                                             "detection.logistic_unseen", "detection.lightgbm")}
        rows.append({"model": m, **split, "static_d2": static_d2, "series_d2": series_d2,
                     "static_unseen": static_unseen, "series_unseen": series_unseen, **stage})
        print(rows[-1], flush=True)
    n_static, n_series = rows[0]["n_static"], rows[0]["n_series"]
    table = [
        f"| {r['model']} | {r['static']:.4f} | {r['at_least_holdout']} / {r['n_static']} | {r['series']:.4f} | "
        f"{r['fidelity.shape_mean']:.4f} | {r['static_unseen']:.4f} | {r['series_unseen']:.4f} | {r['static_d2']:.4f} | {r['series_d2']:.4f} | "
        f"{r['detection.logistic']:.3f} | {r['detection.logistic_unseen']:.3f} | "
        f"{r['fidelity.trend_mean']:.4f} | {r['detection.lightgbm']:.3f} |"
        for r in sorted(rows, key=lambda r: -r["static"])]
    adult = []
    for name in ADULT_ROWS:
        path = ROOT / "reports" / "paper_comparison" / f"{name}.json"
        if path.exists():
            a = json.loads(path.read_text())["metrics"]
            adult.append(f"| {name} | {100 * (1 - a['shape']):.2f} | {100 * (1 - a['trend']):.2f} | "
                         f"{100 * a['c2st']:.2f} | {a['c2st_auc']:.4f} |")
    lines = [
        "# Measures that read one column at a time",
        "",
        "Generated by `experiments/2026-12-detection/marginal_ceiling.py` (see its docstring) from the pipeline's outputs "
        "(`reports/metrics`, `reports/plots/<model>/shapes.csv`, `data/synthetic`; evaluate seed 0). Shape "
        f"is split into the {n_static} static columns and the {n_series} series features (each a function of "
        "all of a customer's series columns); \"≥ holdout\" counts the static columns on which the model "
        "scores at least the real holdout. Σ d²: the squared standardised mean differences of the logistic "
        "detector's embedding features against the train split (`detection_features.py`, beside this report), "
        "static and series features apart. \"unseen\": Shape against the test split (customers no model and "
        f"not the holdout saw), each portfolio subsampled to its size, mean of {args.draws} subsamples. Trend and "
        "LightGBM detection read the joint.",
        "",
        "| model | Shape, static | ≥ holdout | Shape, series | Shape | unseen: Shape, static | unseen: Shape, series | "
        "Σ d² static | Σ d² series | logistic | logistic, unseen | Trend | LightGBM |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *table,
        "",
        "The holdout is a second sample of the population: against the train split it carries both samples' "
        "noise. A model that draws each static column from the train split's own marginal (the copula, the "
        "independent baseline) carries only its own sample's: its static Shape and Σ d² come out beyond the "
        "holdout's, which says how closely it copies the train sample, not how well it learned the "
        "population. Against the test split that advantage is gone and the holdout is the ceiling again: "
        "what a model's static Shape falls short of it there is its own marginal error. What separates "
        "generators on the series features, Trend and LightGBM detection is the joint they learned.",
        "",
    ]
    if adult:
        lines += [
            "## The same on Adult",
            "",
            "`reports/paper_comparison/*.json` (the papers' protocol, `benchmarks/paper_comparison.py`): the "
            "independent baseline has no dependence at all and still reaches the maximum C2ST.",
            "",
            "| model | Shape error % | Trend error % | C2ST % | C2ST AUC |",
            "| --- | ---: | ---: | ---: | ---: |",
            *adult,
            "",
        ]
    atomic_write_text(REPORT, "\n".join(lines))
    print(REPORT)


if __name__ == "__main__":
    main()
