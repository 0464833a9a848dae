"""PNG figures of the use cases, drawn from the same tables DVC plots read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from acacia.evaluation.plots import _save, plt
from acacia.usecases.common import REAL_ONLY


def learning_curve_figure(agg: pd.DataFrame, path: Path) -> None:
    """AUC on the real test split vs real customers fine-tuned on, one line per pre-training
    source, one panel per learner."""
    learners = list(dict.fromkeys(agg["learner"]))
    fig, axes = plt.subplots(1, max(len(learners), 1), figsize=(5.5 * max(len(learners), 1), 4), squeeze=False)
    for ax, learner in zip(axes[0], learners, strict=False):
        d = agg[agg["learner"] == learner]
        for source, g in d.groupby("source", sort=False):
            style = {"color": "black", "lw": 2.5} if source == REAL_ONLY else {"ls": "--" if source == "holdout" else "-"}
            ax.errorbar(g["n"], g["auc"], yerr=g["auc_std"], marker="o", ms=4, capsize=2, label=source, **style)
        ax.set_xscale("log")
        ax.set(title=f"heating detection: {learner}", xlabel="real labelled customers (n)", ylabel="AUC on real test")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8, title="pre-trained on")
    _save(fig, path)


def calibration_figure(cal: pd.DataFrame, path: Path, title: str = "financial ease") -> None:
    """Reliability of a scored band's class probabilities (pooled one-vs-rest)."""
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls=":")
    for source, g in cal.groupby("source", sort=False):
        style = {"color": "black", "lw": 2.5} if source == "trtr" else {}
        ax.plot(g["predicted"], g["observed"], marker="o", ms=3, label="real (TRTR)" if source == "trtr" else source,
                **style)
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="predicted probability", ylabel="observed frequency",
           title=f"{title}: calibration on the real test split")
    ax.legend(fontsize=8)
    _save(fig, path)


def estimates_figure(table: pd.DataFrame, path: Path, title: str = "study") -> None:
    """Forest plot: every study estimate with its interval, real and each source side by side,
    each estimate scaled by the real interval's half-width so all fit on one axis."""
    ests = list(dict.fromkeys(table["estimate"]))
    sources = list(dict.fromkeys(table["source"]))
    real = table[table["source"] == "real"].set_index("estimate")
    fig, ax = plt.subplots(figsize=(8, 0.55 * len(ests) * max(1, len(sources) / 4) + 1.5))
    colors = plt.get_cmap("tab10")
    step = 0.8 / max(len(sources), 1)
    for j, source in enumerate(sources):
        d = table[table["source"] == source].set_index("estimate").reindex(ests)
        centre = real["value"].reindex(ests).to_numpy(dtype=float)
        half = (real["hi"] - real["lo"]).reindex(ests).to_numpy(dtype=float) / 2
        half = np.where(half > 0, half, 1.0)
        y = np.arange(len(ests)) + j * step
        # a portfolio far off the real estimate is drawn at the edge rather than squashing the rest
        v, lo, hi = (np.clip((d[k].to_numpy(dtype=float) - centre) / half, -20, 20) for k in ("value", "lo", "hi"))
        color = "black" if source == "real" else colors(j % 10)
        ax.errorbar(v, y, xerr=[v - lo, hi - v], fmt="o", ms=3, capsize=2, color=color, label=source)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(np.arange(len(ests)) + 0.4 - step / 2)
    ax.set_yticklabels(ests, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("(estimate − real estimate) / real CI half-width")
    ax.set_title(f"{title}: estimates with confidence intervals")
    ax.legend(fontsize=7, loc="best")
    _save(fig, path)


def note_figure(text: str, path: Path) -> None:
    """A figure holding one line of text: the declared PNG of a use case the dataset cannot run."""
    fig, ax = plt.subplots(figsize=(6, 1.2))
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=9, wrap=True)
    _save(fig, path)
