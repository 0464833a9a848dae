"""PNG figures drawn from the evaluate stage's plot data (the same tables DVC plots read)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def _save(fig: plt.Figure, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110, bbox_inches="tight")
    plt.close(fig)
    tmp.replace(path)


def shapes_figure(shapes: pd.DataFrame, model: str, path: Path) -> None:
    """One bar per column: 1−KS or 1−TVD; the weakest columns read first."""
    d = shapes.sort_values("score")
    fig, ax = plt.subplots(figsize=(7, 0.22 * len(d) + 1.2))
    ax.barh(d["column"], d["score"], color=np.where(d["score"] < 0.8, "#d95f02", "#1b9e77"))
    ax.set_xlim(0, 1)
    ax.set_xlabel("column shape score (1 = same distribution as real)")
    ax.set_title(f"{model}: per-column fidelity")
    _save(fig, path)


def profile_figure(profile: pd.DataFrame, model: str, path: Path) -> None:
    """Real vs synthetic kWh per period: median line and 10–90 % band."""
    if profile.empty:
        return
    x = pd.to_datetime(profile["period_start"])
    fig, ax = plt.subplots(figsize=(9, 3.5))
    for who, color in (("real", "#377eb8"), ("syn", "#e41a1c")):
        label = "real" if who == "real" else model
        ax.fill_between(x, profile[f"{who}_p10"], profile[f"{who}_p90"], color=color, alpha=0.15)
        ax.plot(x, profile[f"{who}_mean"], color=color, label=f"{label} mean")
    ax.set_ylabel("kWh per period")
    ax.set_title(f"{model}: consumption profile, mean and 10–90 % band")
    ax.legend()
    _save(fig, path)


def dcr_figure(dcr: pd.DataFrame, model: str, path: Path) -> None:
    """Distance to the closest training customer: synthetic vs the holdout reference."""
    if dcr.empty:
        return
    fig, ax = plt.subplots(figsize=(6, 3.5))
    hi = float(np.quantile(dcr["distance"], 0.99)) or 1.0
    bins = np.linspace(0, hi, 40)
    for src, color in (("holdout", "#377eb8"), ("synthetic", "#e41a1c")):
        d = dcr.loc[dcr["source"] == src, "distance"]
        ax.hist(d, bins=bins, alpha=0.5, color=color, label=src, density=True)
    ax.set_xlabel("distance to closest training customer")
    ax.set_title(f"{model}: DCR (synthetic should not sit closer than holdout)")
    ax.legend()
    _save(fig, path)


def ranking_figure(table: pd.DataFrame, columns: list[str], path: Path) -> None:
    """Grouped bars: one group per model, one bar per headline metric."""
    fig, ax = plt.subplots(figsize=(1.6 * len(table) + 2, 3.8))
    width = 0.8 / len(columns)
    x = np.arange(len(table))
    for i, c in enumerate(columns):
        ax.bar(x + i * width, table[c].astype(float).fillna(0), width, label=c)
    ax.set_xticks(x + 0.4 - width / 2, table["model"])
    ax.set_ylim(0, 1.05)
    ax.set_title("models by headline metric (1 = best)")
    ax.legend(fontsize=7, ncol=2)
    _save(fig, path)


def bands_figure(bands: pd.DataFrame, model: str, path: Path) -> None:
    """Load-profile bands per group (heating type): real vs synthetic median and 10–90 %."""
    if bands.empty:
        return
    groups = list(dict.fromkeys(bands.loc[bands["source"] == "real", "group"]))
    cols = min(3, len(groups))
    rows = int(np.ceil(len(groups) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 2.8 * rows), squeeze=False, sharex=True)
    for ax, g in zip(axes.ravel(), groups, strict=False):
        for src, color in (("real", "#377eb8"), ("synthetic", "#e41a1c")):
            d = bands[(bands["group"] == g) & (bands["source"] == src)]
            if d.empty:
                continue
            x = pd.to_datetime(d["period_start"])
            ax.fill_between(x, d["p10"], d["p90"], color=color, alpha=0.15)
            ax.plot(x, d["p50"], color=color, lw=1, label="real" if src == "real" else model)
        ax.set_title(str(g), fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(groups):]:
        ax.axis("off")
    axes[0, 0].legend(fontsize=7)
    axes[0, 0].set_ylabel("kWh per period")
    fig.suptitle(f"{model}: median and 10–90 % band of consumption, by group")
    _save(fig, path)


def curves_figure(real, synthetic, model: str, path: Path, n: int = 6, seed: int = 0) -> None:
    """Random real customers (top row) and synthetic ones (bottom row), same axes."""
    rng = np.random.default_rng(seed)
    mats = [real.series_matrix(), synthetic.series_matrix()]
    if any(m.shape[1] == 0 or len(m) == 0 for m in mats):
        return
    periods = real.schema.series.periods
    fig, axes = plt.subplots(2, n, figsize=(2.4 * n, 4.2), sharex=True, sharey=True)
    for row, (mat, label, color) in enumerate(zip(mats, ("real", model), ("#377eb8", "#e41a1c"), strict=True)):
        for j, i in enumerate(rng.choice(len(mat), min(n, len(mat)), replace=False)):
            axes[row, j].plot(periods, mat[i], color=color, lw=0.8)
            axes[row, j].tick_params(labelsize=6, labelrotation=45)
        axes[row, 0].set_ylabel(f"{label}\nkWh", fontsize=8)
    fig.suptitle(f"{model}: random customers' consumption, real (top) and synthetic (bottom)")
    _save(fig, path)


def pareto_figure(table: pd.DataFrame, path: Path) -> None:
    """Fidelity pillar vs privacy pillar, one point per model; the upper-right front wins."""
    if not {"pillar.fidelity", "pillar.privacy"} <= set(table.columns):
        return
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    x = table["pillar.fidelity"].astype(float)
    y = table["pillar.privacy"].astype(float)
    ax.scatter(x, y, color=np.where(table["model"] == "holdout", "#377eb8", "#e41a1c"))
    # Zoomed to where the points are: on a 0-1 square the models, all near privacy 1, were one blot.
    (x0, x1), (y0, y1) = _span(x), _span(y)
    for (xi, yi), ty, name in zip(zip(x, y, strict=True), _spread_labels(x, y, (x1 - x0), (y1 - y0)),
                                  table["model"], strict=True):
        if np.isfinite(xi) and np.isfinite(yi):
            ax.annotate(name, (xi, yi), xytext=(xi + 0.012 * (x1 - x0), ty), fontsize=8,
                        arrowprops={"arrowstyle": "-", "color": "grey", "lw": 0.5} if abs(ty - yi) > 0.02 * (y1 - y0) else None)
    # Pareto front: models no other model beats on both axes.
    gen = table["model"] != "holdout"  # the front among generators; holdout is the target
    pts = sorted(((a, b) for a, b in zip(x[gen], y[gen], strict=True) if np.isfinite(a) and np.isfinite(b)),
                 reverse=True)
    front, best = [], -np.inf
    for a, b in pts:
        if b > best:
            front.append((a, b))
            best = b
    if front:
        fx, fy = zip(*front, strict=True)
        ax.plot(fx, fy, "--", color="grey", lw=1, label="Pareto front")
        ax.legend(fontsize=8)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("fidelity pillar (1 = as faithful as unseen real data)")
    ax.set_ylabel("privacy pillar (1 = as private as unseen real data)")
    ax.set_title("fidelity vs privacy")
    _save(fig, path)


def _span(v: pd.Series, min_width: float = 0.02) -> tuple[float, float]:
    """Axis limits around the finite values with a margin (labels go right of the points)."""
    v = v[np.isfinite(v)]
    if v.empty:
        return -0.05, 1.05
    lo, hi = float(v.min()), float(v.max())
    width = max(hi - lo, min_width)
    mid = (lo + hi) / 2
    return mid - 0.6 * width, mid + 0.75 * width


def _spread_labels(x: pd.Series, y: pd.Series, width: float, height: float) -> list[float]:
    """Label heights: a label sits at its point unless a label to its side already does, then it
    moves up just enough (labels of points close in x must not overlap)."""
    order = np.argsort(np.nan_to_num(y.to_numpy(dtype=float), nan=-np.inf))
    placed: list[tuple[float, float]] = []
    out = y.to_numpy(dtype=float).copy()
    for i in order:
        xi, ty = float(x.iloc[i]), float(out[i])
        if not (np.isfinite(xi) and np.isfinite(ty)):
            continue
        for px, py in sorted(placed, key=lambda p: p[1]):
            if abs(px - xi) < 0.25 * width and abs(py - ty) < 0.045 * height:
                ty = py + 0.045 * height
        placed.append((xi, ty))
        out[i] = ty
    return list(out)


def marginals_figure(marginals: pd.DataFrame, model: str, path: Path, ncols: int = 4) -> None:
    """A grid, one panel per column: real vs synthetic densities (numbers) or level shares
    (labels), from :func:`acacia.evaluation.plot_data.marginal_table`."""
    if marginals.empty:
        return
    columns = list(dict.fromkeys(marginals["column"]))
    ncols = min(ncols, len(columns))
    nrows = int(np.ceil(len(columns) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols, 2.3 * nrows), squeeze=False)
    for ax, c in zip(axes.ravel(), columns, strict=False):
        d = marginals[marginals["column"] == c].sort_values("position")
        if d["label"].astype(str).str.len().gt(0).any() or d["x_low"].isna().all():
            y = np.arange(len(d))
            ax.barh(y - 0.2, d["real"], 0.4, color="#377eb8", label="real")
            ax.barh(y + 0.2, d["synthetic"], 0.4, color="#e41a1c", label=model)
            ax.set_yticks(y, [str(v)[:18] for v in d["label"]], fontsize=6)
            ax.invert_yaxis()
            ax.set_xlabel("share", fontsize=7)
        else:
            width = (d["x_high"] - d["x_low"]).to_numpy(float)
            edges = np.r_[d["x_low"].to_numpy(float), d["x_high"].to_numpy(float)[-1]]
            for who, color, label in (("real", "#377eb8", "real"), ("synthetic", "#e41a1c", model)):
                dens = d[who].to_numpy(float) / np.where(width > 0, width, 1.0)
                ax.stairs(dens, edges, color=color, lw=1.2, label=label,
                          fill=who == "real", alpha=0.35 if who == "real" else 1.0)
            ax.set_yticks([])
        kind = d["kind"].iloc[0]
        ax.set_title(f"{c} (days since 1970)" if kind == "date" else c, fontsize=8)
        ax.tick_params(labelsize=6)
    for ax in axes.ravel()[len(columns):]:
        ax.axis("off")
    axes[0, 0].legend(fontsize=6)
    fig.suptitle(f"{model}: marginals, real (blue) vs synthetic (red)", y=1.0)
    # Fixed spacing: tight_layout is slow on a 30-panel grid.
    fig.subplots_adjust(hspace=0.55, wspace=0.45, top=0.95)
    _save(fig, path)


def pairs_figure(pairs: pd.DataFrame, model: str, path: Path) -> None:
    """Heatmap of 1 − Trend score per column pair: |Δ Pearson ρ| / 2 for numeric pairs, the
    contingency TVD otherwise; 0 = the pair's dependence is reproduced."""
    if pairs.empty:
        return
    cols = list(dict.fromkeys(list(pairs["column_a"]) + list(pairs["column_b"])))
    pos = {c: i for i, c in enumerate(cols)}
    mat = np.full((len(cols), len(cols)), np.nan)
    i = pairs["column_a"].map(pos).to_numpy()
    j = pairs["column_b"].map(pos).to_numpy()
    mat[i, j] = mat[j, i] = pairs["difference"].to_numpy(float)
    side = 0.22 * len(cols) + 2.5
    fig, ax = plt.subplots(figsize=(side + 1.2, side))
    vmax = max(0.1, float(np.nanmax(mat)) if np.isfinite(mat).any() else 0.1)
    im = ax.imshow(mat, cmap="Reds", vmin=0, vmax=vmax)
    ax.set_xticks(range(len(cols)), cols, rotation=90, fontsize=6)
    ax.set_yticks(range(len(cols)), cols, fontsize=6)
    fig.colorbar(im, ax=ax, shrink=0.7, label="1 − trend score")
    ax.set_title(f"{model}: dependence difference per pair (mean {np.nanmean(mat):.3f})")
    _save(fig, path)


def projection_figure(projection: pd.DataFrame, model: str, path: Path) -> None:
    """Real and synthetic rows on the real data's first two principal axes."""
    if projection.empty:
        return
    explained = projection.attrs.get("explained", [np.nan, np.nan])
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    for src, color, label in (("real", "#377eb8", "real"), ("synthetic", "#e41a1c", model)):
        d = projection[projection["source"] == src]
        ax.scatter(d["pc1"], d["pc2"], s=5, alpha=0.35, color=color, label=label, linewidths=0)
    ax.set_xlabel(f"PC1 ({explained[0]:.0%} of real variance)")
    ax.set_ylabel(f"PC2 ({explained[1]:.0%} of real variance)")
    ax.set_title(f"{model}: 2-D projection (PCA of the standardised one-hot embedding)")
    ax.legend(fontsize=7, markerscale=3)
    _save(fig, path)
