"""Plot tables of the per-model pictures: marginal overlays, pair-trend differences, a 2-D
projection of real vs synthetic (the DCR table comes from :mod:`acacia.evaluation.privacy`).

Each function returns the long table a figure of :mod:`acacia.evaluation.plots` draws and that
the evaluate stage writes as DVC plot data, so `dvc plots diff` and the PNG read the same numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from acacia.evaluation.features import LABEL_KINDS, NULL_LABEL, Embedding, labels, numeric_values

MARGINAL_COLUMNS = ["column", "kind", "position", "label", "x_low", "x_high", "real", "synthetic"]
PAIR_COLUMNS = ["pair", "column_a", "column_b", "trend_score", "difference"]
PROJECTION_COLUMNS = ["source", "pc1", "pc2"]
OTHER_LEVELS = "(other levels)"


def marginal_table(
    real: pd.DataFrame,
    syn: pd.DataFrame,
    kinds: dict[str, str],
    bins: int = 30,
    max_levels: int = 12,
) -> pd.DataFrame:
    """Per column, the share of rows in each bin (numbers) or level (labels), real and synthetic.

    Numbers (dates as days) share ``bins`` equal-width bins over the 0.5–99.5 % quantiles of both
    sides pooled, values beyond falling into the end bins, so one outlier does not flatten the
    picture; shares are over non-null values (null rates are the missingness metric's). Labels
    keep the null as a level, as the shape metric does; beyond the ``max_levels`` most frequent
    real levels, the rest are pooled into one bar. Both sides' shares sum to 1 per column, so a
    point per bin of real vs synthetic share lies on the diagonal when the marginal is faithful.
    """
    rows: list[pd.DataFrame] = []
    for c, kind in kinds.items():
        if kind in LABEL_KINDS:
            r, s = labels(real[c], kind), labels(syn[c], kind)
            freq = pd.Series(r).value_counts()
            keep = list(freq.index[:max_levels])
            # Levels only the synthetic side shows are visible in the pooled bar.
            pooled = len(freq) > max_levels or bool(np.isin(s, keep, invert=True).any())
            names = keep + ([OTHER_LEVELS] if pooled else [])

            def shares(v: np.ndarray, names: list[str] = names, keep: list[str] = keep) -> np.ndarray:
                v = np.where(np.isin(v, keep), v, OTHER_LEVELS)
                counts = pd.Series(v).value_counts().reindex(names, fill_value=0).to_numpy(float)
                return counts / max(len(v), 1)

            rows.append(pd.DataFrame({
                "column": c, "kind": kind, "position": np.arange(len(names)),
                "label": [("null" if n == NULL_LABEL else str(n)) for n in names],
                "x_low": np.nan, "x_high": np.nan, "real": shares(r), "synthetic": shares(s),
            }))
            continue
        r, s = numeric_values(real[c], kind), numeric_values(syn[c], kind)
        r, s = r[np.isfinite(r)], s[np.isfinite(s)]
        pooled_values = np.concatenate([r, s])
        if len(pooled_values) == 0:
            continue
        lo, hi = np.quantile(pooled_values, [0.005, 0.995])
        if not hi > lo:
            lo, hi = lo - 0.5, hi + 0.5
        edges = np.linspace(lo, hi, bins + 1)

        def binned(v: np.ndarray, edges: np.ndarray = edges) -> np.ndarray:
            idx = np.clip(np.searchsorted(edges, v, side="right") - 1, 0, len(edges) - 2)
            return np.bincount(idx, minlength=len(edges) - 1) / max(len(v), 1)

        rows.append(pd.DataFrame({
            "column": c, "kind": kind, "position": np.arange(bins), "label": "",
            "x_low": edges[:-1], "x_high": edges[1:], "real": binned(r), "synthetic": binned(s),
        }))
    if not rows:
        return pd.DataFrame({k: pd.Series(dtype=float) for k in MARGINAL_COLUMNS})
    return pd.concat(rows, ignore_index=True)[MARGINAL_COLUMNS]


def pair_table(trends: dict[str, float]) -> pd.DataFrame:
    """The Trend scores as a long table with ``difference = 1 − score``: |ρ_real − ρ_syn| / 2 for
    numeric pairs, the TVD of the joint binned frequencies otherwise (see
    :func:`acacia.evaluation.fidelity.column_pair_trends`); its mean is 1 − the Trend mean."""
    pairs = [k.split("|", 1) for k in trends]
    score = np.array(list(trends.values()), dtype=float)
    return pd.DataFrame({
        "pair": list(trends), "column_a": [a for a, _ in pairs], "column_b": [b for _, b in pairs],
        "trend_score": score, "difference": 1.0 - score,
    }, columns=PAIR_COLUMNS)


def projection_table(
    real: pd.DataFrame,
    syn: pd.DataFrame,
    kinds: dict[str, str],
    seed: int = 0,
    max_rows: int | None = 2000,
) -> pd.DataFrame:
    """Both sides projected on the first two principal axes of the real rows.

    The embedding is the one distances use (robust-scaled numbers, one-hot labels, missing
    indicators), each column then standardised with the real mean and std so that a frequent
    level does not weigh more than a numeric column. Axes are fitted on the real rows only: a
    synthetic cloud off the real one is a departure, not a rotation. ``attrs["explained"]`` holds
    the two axes' shares of the real variance. Rows are capped at ``max_rows`` per side (seeded):
    a scatter of more points shows nothing more.
    """
    rng = np.random.default_rng(seed)

    def cap(df: pd.DataFrame) -> pd.DataFrame:
        if max_rows is None or len(df) <= max_rows:
            return df.reset_index(drop=True)
        return df.iloc[np.sort(rng.choice(len(df), max_rows, replace=False))].reset_index(drop=True)

    r, s = cap(real), cap(syn)
    if len(r) < 3 or len(s) == 0:
        out = pd.DataFrame({k: pd.Series(dtype=float) for k in PROJECTION_COLUMNS})
        out.attrs["explained"] = [float("nan"), float("nan")]
        return out
    emb = Embedding().fit(r, kinds)
    er, es = emb.transform(r).astype(np.float64), emb.transform(s).astype(np.float64)
    mu, sd = er.mean(axis=0), er.std(axis=0)
    sd = np.where(sd > 1e-12, sd, 1.0)
    zr, zs = (er - mu) / sd, (es - mu) / sd
    _, sv, vt = np.linalg.svd(zr, full_matrices=False)
    axes = vt[:2]
    # Sign convention (largest loading positive) so that the picture does not flip between runs.
    axes = axes * np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)])[:, None]
    pr, ps = zr @ axes.T, zs @ axes.T
    if axes.shape[0] < 2:
        pr, ps = np.column_stack([pr, np.zeros(len(pr))]), np.column_stack([ps, np.zeros(len(ps))])
    var = sv**2
    explained = list(var[:2] / var.sum()) if var.sum() > 0 else [float("nan")] * 2
    out = pd.DataFrame({
        "source": np.r_[np.repeat("real", len(pr)), np.repeat("synthetic", len(ps))],
        "pc1": np.r_[pr[:, 0], ps[:, 0]].round(4),
        "pc2": np.r_[pr[:, 1], ps[:, 1]].round(4),
    })
    out.attrs["explained"] = [float(e) for e in (explained + [float("nan")])[:2]]
    return out
