"""What the logistic detector sees: per-feature mean differences between real and synthetic.

Logistic regression on the standardised one-hot embedding (the C2ST of the TabSyn/TabDiff papers,
``evaluation/detection.py``) is linear, so it can only separate the two samples along directions
where their means differ. This script lists, for each generator's portfolio of the pipeline
(``data/synthetic/<model>``), the standardised mean difference of every embedding feature against
the real train split, (mean_syn − mean_real) / pooled standard deviation, and how much of the
total Σ d² the largest ones carry. Each row also has the logistic detection score itself, as the
evaluate stage computes it (its seed, row cap and folds from params.yaml's ``evaluate``), over
``--seeds`` detection seeds (the row sample and the folds; the stage uses ``evaluate.seed``), so
the noise of the score shows beside the differences that drive it, and the same detector against
the test split, real customers no generator saw (the stage's ``detection.logistic_unseen``). One
reference row is not a generator: the real holdout with its series encoded and decoded by the
default ``compressed`` representation (fitted on the train split, as the models fit it). It is a
perfect generator of everything the representation keeps: what it scores is the ceiling for any
model whose series go through that decoder.
Run by hand from the project root after ``dvc repro`` (never in the test suite):

    .venv/bin/python experiments/2026-12-detection/detection_features.py [--models tabdiff gaussian_copula] \
        [--top 6] [--seeds 0 1 2]

→ ``detection_features.md`` next to this script.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
REPORT = HERE / "detection_features.md"


def mean_differences(r, s, kinds: dict[str, str]) -> tuple[list[str], np.ndarray]:
    """Feature names and standardised mean differences of the analysis tables ``r`` (real) and
    ``s`` (synthetic), in the detector's embedding of ``r``."""
    from acacia.evaluation.features import Embedding

    emb = Embedding().fit(r, kinds)
    xr, xs = emb.transform(r).astype(np.float64), emb.transform(s).astype(np.float64)
    pooled = np.sqrt(0.5 * (xr.var(axis=0) + xs.var(axis=0)))
    d = np.divide(xs.mean(axis=0) - xr.mean(axis=0), pooled, out=np.zeros(xr.shape[1]), where=pooled > 0)
    return list(emb.feature_names_), d


def logistic_scores(r, u, s, kinds: dict[str, str], seeds: list[int], cfg: dict) -> dict[str, np.ndarray]:
    """The evaluate stage's logistic detection of the synthetic analysis table ``s`` against ``r``
    (the train split's) and against ``u`` (the test split's, ``detection.logistic_unseen``), one
    per seed: ``score``, ``auc``, ``score_unseen``, ``auc_unseen``."""
    from acacia.evaluation.detection import detection_score
    from acacia.evaluation.evaluate import _same_size_index

    out: dict[str, list[float]] = {"score": [], "auc": [], "score_unseen": [], "auc_unseen": []}
    for seed in seeds:
        i_r, i_s = _same_size_index(len(r), len(s), np.random.default_rng(seed))
        s_eq = s.iloc[i_s].reset_index(drop=True)
        for suffix, side in (("", r.iloc[i_r].reset_index(drop=True)), ("_unseen", u)):
            d = detection_score(side, s_eq, kinds, model="logistic", folds=int(cfg["detection_folds"]),
                                seed=seed, max_rows=cfg.get("max_rows"))
            out[f"score{suffix}"].append(d["score"])
            out[f"auc{suffix}"].append(d["auc"])
    return {k: np.asarray(v) for k, v in out.items()}


def through_representation(real, other):
    """``other`` with its series encoded and decoded by the default ``compressed`` representation
    fitted on ``real``'s series (a perfect generator of all the representation keeps)."""
    from acacia.data.portfolio import MatrixPortfolio
    from acacia.transforms.series import make_series_representation

    rep = make_series_representation("compressed").fit(real.series_matrix())
    decoded = rep.from_columns(rep.to_columns(other.series_matrix()), np.random.default_rng(0))
    return MatrixPortfolio(other.customers, decoded, other.schema)


def representation_round_trip(real) -> dict[str, tuple[float, float, float]]:
    """Series features of the real train split before and after a trip through the default
    ``compressed`` series representation alone (encode, decode; no generator): feature →
    (real mean, decoded mean, d). A bias here is shared by every generator that uses it."""
    from acacia.evaluation.features import series_features_from_matrix

    mat, spec = real.series_matrix(), real.schema.series
    decoded = through_representation(real, real).series_matrix()
    a, b = series_features_from_matrix(mat, spec), series_features_from_matrix(decoded, spec)
    out = {}
    for col in a.columns:
        x, y = a[col].to_numpy(dtype=float), b[col].to_numpy(dtype=float)
        pooled = np.sqrt(0.5 * (np.nanvar(x) + np.nanvar(y)))
        out[col] = (float(np.nanmean(x)), float(np.nanmean(y)),
                    float((np.nanmean(y) - np.nanmean(x)) / pooled) if pooled > 0 else 0.0)
    return out


def main() -> None:
    from acacia.data.portfolio import Portfolio
    from acacia.evaluation.features import analysis_table
    from acacia.params import load_params
    from acacia.paths import PROCESSED, SYNTHETIC

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", help="default: every portfolio under data/synthetic")
    ap.add_argument("--top", type=int, default=6)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="detection seeds (default 0 1 2)")
    args = ap.parse_args()
    models = args.models or sorted(p.name for p in (ROOT / SYNTHETIC).iterdir() if p.is_dir())
    cfg = load_params(ROOT / "params.yaml")["evaluate"]
    real = Portfolio.load(ROOT / PROCESSED / "train")
    reference = ("holdout, series through `compressed`",
                 through_representation(real, Portfolio.load(ROOT / PROCESSED / "holdout")))
    unseen = Portfolio.load(ROOT / PROCESSED / "test")
    # Each split's analysis table once, not once per generator.
    (real_table, kinds), (unseen_table, _) = analysis_table(real), analysis_table(unseen)
    rows: list[str] = []
    unseen_rows: list[str] = []

    def spread(v: np.ndarray, digits: int = 3) -> str:
        return f"{v.mean():.{digits}f} ± {v.std(ddof=1) if len(v) > 1 else 0.0:.{digits}f}"

    def add_row(name: str, syn) -> None:
        syn_table, _ = analysis_table(syn)
        names, d = mean_differences(real_table, syn_table, kinds)
        total = float((d**2).sum())
        order = np.argsort(-np.abs(d))[: args.top]
        top = ", ".join(f"{names[i]} {d[i]:+.3f}" for i in order)
        share = float((d[order[0]] ** 2) / total) if total > 0 else 0.0
        det = logistic_scores(real_table, unseen_table, syn_table, kinds, args.seeds, cfg)
        rows.append(f"| {name} | {spread(det['score'])} | {total:.4f} | {share:.0%} | {top} |")
        unseen_rows.append(f"| {name} | {spread(det['auc'], 4)} | {spread(det['score'])} | "
                           f"{spread(det['auc_unseen'], 4)} | {spread(det['score_unseen'])} |")
        print(rows[-1], unseen_rows[-1], sep="\n", flush=True)

    for name in models:
        add_row(name, Portfolio.load(ROOT / SYNTHETIC / name))
    add_row(*reference)
    trip = representation_round_trip(real)
    trip_rows = [f"| {k} | {v[0]:.4f} | {v[1]:.4f} | {v[2]:+.3f} |" for k, v in trip.items()]
    lines = [
        "# What the logistic detector sees",
        "",
        "Generated by `experiments/2026-12-detection/detection_features.py` (see its docstring) on the pipeline's portfolios: "
        "standardised mean difference d of each feature of the logistic detector's embedding, synthetic "
        "against the real train split (all rows of both). The detector is linear, so Σ d² bounds what it can "
        "find; the holdout row is the sampling noise of a perfect generator. Logistic score: the evaluate "
        f"stage's detection score (1 = indistinguishable), mean ± standard deviation over detection seeds "
        f"{', '.join(map(str, args.seeds))}. The last row is the real holdout with its series through the "
        "default `compressed` representation (encoded and decoded, no generator): the best any model whose "
        "series go through that decoder can reach.",
        "",
        f"| model | logistic score | Σ d² | share of the largest | largest {args.top} (d) |",
        "| --- | ---: | ---: | ---: | --- |",
        *rows,
        "",
        "## Against real customers no generator saw",
        "",
        "The same logistic detector, against the train split (the papers' protocol, the evaluate stage's "
        "`detection.logistic`) and against the test split (`detection.logistic_unseen`: "
        f"{len(unseen.customers):,} real customers that no generator, and not the holdout, was fitted on; the "
        "synthetic side subsampled to that size), mean ± standard deviation over the same detection seeds. "
        "An AUC below 0.5 against train is a generator closer to the train sample than fresh real data is: "
        "it reproduces that sample's own moments, sampling noise included, and loses the advantage "
        "against the test split. The holdout row is the reference either way.",
        "",
        "| model | AUC, train | score, train | AUC, unseen | score, unseen |",
        "| --- | ---: | ---: | ---: | ---: |",
        *unseen_rows,
        "",
        "## The series representation alone",
        "",
        "The real train split's series encoded by the default `compressed` representation and decoded "
        "again, no generator in between (`representation_round_trip`): every generator that models "
        "series through it inherits these differences.",
        "",
        "| series feature | real mean | after encode / decode | d |",
        "| --- | ---: | ---: | ---: |",
        *trip_rows,
        "",
    ]
    tmp = REPORT.with_suffix(".md.tmp")
    tmp.write_text("\n".join(lines))
    os.replace(tmp, REPORT)


if __name__ == "__main__":
    main()
