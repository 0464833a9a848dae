"""α-precision and β-recall (Alaa et al., ICML 2022, "How faithful is your synthetic data?").

Both are read off curves over α ∈ [0, 1] (``n_steps`` points, 30 as in synthcity):

- α-precision curve P(α): share of synthetic rows inside the ball, centred on the real mean, that
  holds the α-quantile of the real rows' distances to that centre. A faithful generator puts a
  fraction α of its rows in the real α-support, so P(α) ≈ α; rows thrown outside the real support
  (a shifted or noisy generator) pull the curve below the diagonal.
- β-recall curve R(β): share of real rows that are "covered" (their nearest synthetic row is no
  farther than their nearest other real row) *and* whose nearest synthetic row lies in the
  β-quantile ball of the synthetic rows around the synthetic mean. A generator that drops modes
  leaves most real rows uncovered, so the curve stays far below the diagonal.

Each score is 1 − Σ|α − curve(α)| / Σα over the grid (synthcity's integrated form): 1 when the
curve is the diagonal, 0 when it is flat at 0 or 1.

Which variant. synthcity's ``AlphaPrecision`` returns an "OC" variant (distances in the embedding
of a one-class network trained on the real rows) and a "naive" one (distances in the input space
after min-max scaling on the real rows, centred on the real mean). The TabSyn and TabDiff
evaluation scripts (``eval/eval_quality.py`` of both repositories) keep the *naive* keys,
``delta_precision_alpha_naive`` and ``delta_coverage_beta_naive``, on numbers + one-hot
categories, so that is what is implemented here: the OC variant also needs a trained network,
which would make the metric slower and seed-fragile for no comparability gain.

Two geometries (``scaling``):

- ``"standard"`` (default, ../shared/DESIGN.md §4): the project's :class:`Embedding`, robust
  standardisation of numbers and one-hot categories, as DCR and the logistic detector use. A
  heavy-tailed column (kWh, capital gains) then weighs as much as a categorical one.
- ``"minmax"``: the papers' geometry, the same one-hot columns with every column min-max scaled
  on the real rows (the robust scaling is affine, so this equals min-max scaling the raw values;
  clipping is switched off so out-of-range synthetic values keep their distance). Use it to put
  numbers beside the published TabSyn/TabDiff tables.

How to read β-recall: a fresh sample of the real distribution does *not* score 1. Among the 2n − 1
other rows, a real row's nearest neighbour is synthetic about half the time, so an ideal generator
scores ≈ 0.5 (only a copy of the training rows reaches 1, which DCR flags). α-precision of an ideal
generator is ≈ 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors
from threadpoolctl import threadpool_limits

from acacia.evaluation.detection import balanced_sample
from acacia.evaluation.features import Embedding, check_columns
from acacia.evaluation.privacy import EXACT_TOL

SCALINGS = ("standard", "minmax")
N_STEPS = 30
DEFAULT_MAX_ROWS = 10_000


def alpha_beta_curves(
    real: np.ndarray, syn: np.ndarray, n_steps: int = N_STEPS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The α grid, the α-precision curve and the β-recall curve of two embedded samples.

    ``real`` and ``syn`` are (rows × features) arrays in the same embedding; they need not have
    the same number of rows, but the scores are only comparable across generators at equal sizes
    (see :func:`quality_scores`, which subsamples both sides to the same size).
    """
    x = np.asarray(real, dtype=np.float64)
    y = np.asarray(syn, dtype=np.float64)
    alphas = np.linspace(0.0, 1.0, n_steps)
    if len(x) < 2 or len(y) == 0:
        nan = np.full(n_steps, np.nan)
        return alphas, nan, nan.copy()

    center = x.mean(axis=0)
    radii = np.quantile(np.linalg.norm(x - center, axis=1), alphas)
    syn_to_center = np.sort(np.linalg.norm(y - center, axis=1))
    # Curves by binary search on sorted distances: one pass instead of n_steps masks.
    precision = np.searchsorted(syn_to_center, radii, side="right") / len(y)

    # Single-threaded BLAS/OpenMP: see detection.py (thread oversubscription on small machines).
    with threadpool_limits(1):
        # Two neighbours of each real row among the real rows: itself, then its nearest other
        # row (a duplicate row comes out at distance 0 either way).
        real_real = NearestNeighbors(n_neighbors=2).fit(x).kneighbors(x)[0][:, 1]
        real_syn, nearest = NearestNeighbors(n_neighbors=1).fit(y).kneighbors(x)
    real_syn, nearest = real_syn[:, 0], nearest[:, 0]
    # The tolerance keeps an exact synthetic copy "covered" when the distance computation
    # returns ~1e-8 for identical rows instead of 0.
    covered = real_syn <= real_real + EXACT_TOL
    nearest_to_syn_center = np.linalg.norm(y[nearest] - y.mean(axis=0), axis=1)
    beta_radii = np.quantile(nearest_to_syn_center, alphas)
    recall = np.searchsorted(np.sort(nearest_to_syn_center[covered]), beta_radii, side="right") / len(x)
    return alphas, precision, recall


def curve_score(alphas: np.ndarray, curve: np.ndarray) -> float:
    """1 − Σ|α − curve(α)| / Σα: 1 on the diagonal; 0 for a curve flat at 0 or at 1."""
    if not np.isfinite(curve).all():
        return float("nan")
    return float(1.0 - np.abs(alphas - curve).sum() / alphas.sum())


def embed_pair(
    real: pd.DataFrame, syn: pd.DataFrame, kinds: dict[str, str], scaling: str = "standard"
) -> tuple[np.ndarray, np.ndarray]:
    """Both frames in the embedding fitted on ``real`` (see the module docstring for ``scaling``)."""
    if scaling not in SCALINGS:
        raise ValueError(f"scaling '{scaling}', expected one of {list(SCALINGS)}")
    if scaling == "standard":
        emb = Embedding().fit(real, kinds)
        return emb.transform(real), emb.transform(syn)
    emb = Embedding(clip=np.inf).fit(real, kinds)
    x = emb.transform(real).astype(np.float64)
    y = emb.transform(syn).astype(np.float64)
    lo = x.min(axis=0) if len(x) else np.zeros(x.shape[1])
    span = (x.max(axis=0) - lo) if len(x) else np.ones(x.shape[1])
    # A column constant on the real rows keeps its unit scale (as sklearn's MinMaxScaler does):
    # synthetic rows that move it still move away.
    span = np.where(span > 0, span, 1.0)
    return (x - lo) / span, (y - lo) / span


def quality_scores(
    real: pd.DataFrame,
    syn: pd.DataFrame,
    kinds: dict[str, str],
    scaling: str = "standard",
    seed: int = 0,
    max_rows: int | None = DEFAULT_MAX_ROWS,
    n_steps: int = N_STEPS,
) -> dict[str, float]:
    """``alpha_precision`` and ``beta_recall`` in [0, 1] (1 is best, see the module docstring for
    why ≈ 0.5 is the ceiling of β-recall for a non-copying generator), and ``n`` rows per side.

    Both sides are subsampled (seeded, without replacement) to n = min(len(real), len(syn),
    max_rows): synthcity requires equal sizes, and the nearest-neighbour searches cost O(n²).
    """
    check_columns(real, kinds, "real")
    check_columns(syn, kinds, "synthetic")
    r, s = balanced_sample(real, syn, seed=seed, max_rows=max_rows)
    x, y = embed_pair(r, s, kinds, scaling)
    alphas, precision, recall = alpha_beta_curves(x, y, n_steps)
    return {
        "alpha_precision": curve_score(alphas, precision),
        "beta_recall": curve_score(alphas, recall),
        "n": float(len(r)),
    }


__all__ = ["alpha_beta_curves", "curve_score", "embed_pair", "quality_scores"]
