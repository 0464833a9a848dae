"""How faithful can a generator of the compressed series columns be? → decoder_ceiling.md

Every model with ``series_representation: compressed`` generates a customer's level, component
scores, noise scale and read window; the decoder turns them into a weekly curve, adding Gaussian
noise with the residuals' period-by-period covariance. A generator that reproduced those columns
perfectly would still be limited by the decoder. This measures that ceiling on the pipeline's own
data: the real holdout's series are encoded with a trained model's fitted representation
(``models/<model>``), decoded, and their series features scored against the train split's (1 − KS,
as the evaluate stage's Shape does), next to the real holdout itself. Variants of the decoder's
noise are measured without touching the library: Student-t innovations of the same variance
(``--innovations-df``) and a scaled noise (``--noise-scale``). Per group of ``--group-by``, the
median lag-1 autocorrelation real against decoded shows where the decoded curves are too smooth or
too rough. Run by hand from the project root after ``dvc repro``; the report is written next to
this script:

    .venv/bin/python experiments/2026-12-detection/decoder_ceiling.py [--model tabdiff] \\
        [--innovations-df 0 5 3.5] [--noise-scale 1.0 1.1]
"""

from __future__ import annotations

import argparse
import copy
import os
import types
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
REPORT = HERE / "decoder_ceiling.md"
FEATURES = ["series_acf1", "series_cv", "series_winter_summer", "series_annual_kwh"]


def student_t_noise(df: float):
    """A noise method for the decoder: Student-t innovations of unit variance through the same
    period covariance as the library's Gaussian paths."""

    def noise(self, n: int, t: int, rng: np.random.Generator) -> np.ndarray:
        return (rng.standard_t(df, (n, t)) * np.sqrt((df - 2) / df)) @ self.noise_factor_.T

    return noise


def mean_lag1_correlation(factor: np.ndarray) -> float:
    """The decoder noise's correlation between consecutive periods, averaged over the periods."""
    cov = factor @ factor.T
    sd = np.sqrt(np.clip(np.diag(cov), 1e-12, None))
    return float(np.mean(np.diag(cov, 1) / (sd[1:] * sd[:-1])))


def main() -> None:
    from acacia.data.portfolio import Portfolio
    from acacia.evaluation.features import series_features_from_matrix
    from acacia.models import Synthesizer

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="tabdiff", help="a trained model under models/ with compressed series")
    ap.add_argument("--innovations-df", type=float, nargs="+", default=[0.0],
                    help="Student-t degrees of freedom (> 2) of the noise; 0 = Gaussian (the library's)")
    ap.add_argument("--noise-scale", type=float, nargs="+", default=[1.0])
    ap.add_argument("--group-by", default="heating_energy")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if any(0 < d <= 2 or d < 0 for d in args.innovations_df):
        ap.error("--innovations-df: expected 0 (Gaussian) or degrees of freedom above 2")
    series = Synthesizer.load(ROOT / "models" / args.model).codec_.series_
    if not hasattr(series, "noise_factor_"):
        raise SystemExit(f"--model {args.model}: its series representation is not compressed")
    train = Portfolio.load(ROOT / "data/processed/train")
    holdout = Portfolio.load(ROOT / "data/processed/holdout")
    if args.group_by not in holdout.customers.columns:
        ap.error(f"--group-by: no column '{args.group_by}' in the customers table")
    spec = train.schema.series
    real_train = series_features_from_matrix(train.series_matrix(), spec)
    real_holdout = series_features_from_matrix(holdout.series_matrix(), spec)
    columns = series.to_columns(holdout.series_matrix())
    groups = holdout.customers[args.group_by].astype(object).where(holdout.customers[args.group_by].notna(), "(null)")

    def score(feats: pd.DataFrame) -> dict[str, float]:
        return {f: 1 - ks_2samp(real_train[f].dropna(), feats[f].dropna()).statistic for f in FEATURES}

    rows = [{"series": "real holdout", **score(real_holdout)}]
    per_group = {"real": real_holdout["series_acf1"].groupby(groups.to_numpy()).median()}
    for df in args.innovations_df:
        decoder = series
        if df:
            # A fresh copy whose noise method alone is replaced: the library is left as it is.
            decoder = copy.deepcopy(series)
            decoder._noise_paths = types.MethodType(student_t_noise(df), decoder)
        for scale in args.noise_scale:
            scaled = columns.assign(kwh_noise=columns["kwh_noise"] * scale)
            feats = series_features_from_matrix(decoder.from_columns(scaled, np.random.default_rng(args.seed)), spec)
            label = f"decoded, {'Gaussian' if df == 0 else f'Student-t ν = {df:g}'} noise × {scale:g}"
            rows.append({"series": label, **score(feats)})
            per_group[label] = feats["series_acf1"].groupby(groups.to_numpy()).median()
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    lines = [
        "# The compressed decoder's ceiling on the series features",
        "",
        f"Generated by `experiments/2026-12-detection/decoder_ceiling.py` (see its docstring) with `models/{args.model}`'s fitted "
        "representation: the real holdout's series encoded and decoded, scored against the train split "
        "(1 − KS of each customer-level feature). The first row is the real holdout itself.",
        "",
        "| series | " + " | ".join(FEATURES) + " |",
        "| --- | " + " | ".join("---" for _ in FEATURES) + " |",
        *(f"| {r['series']} | " + " | ".join(f"{r[f]:.3f}" for f in FEATURES) + " |" for r in rows),
        "",
        f"Median lag-1 autocorrelation per {args.group_by} (the decoder's noise: correlation of consecutive "
        f"periods {mean_lag1_correlation(series.noise_factor_):.3f} on average):",
        "",
        "| group | " + " | ".join(per_group) + " |",
        "| --- | " + " | ".join("---" for _ in per_group) + " |",
        *(f"| {g} | " + " | ".join(f"{per_group[k].get(g, np.nan):.3f}" for k in per_group) + " |"
          for g in per_group["real"].index),
        "",
    ]
    tmp = REPORT.with_suffix(".md.tmp")
    tmp.write_text("\n".join(lines))
    os.replace(tmp, REPORT)
    print(table.round(3).to_string(index=False))
    print(REPORT)


if __name__ == "__main__":
    main()
