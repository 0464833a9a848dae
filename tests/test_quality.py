"""α-precision / β-recall: the right score moves for the right failure, and results are seeded."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from acacia.evaluation.quality import alpha_beta_curves, curve_score, quality_scores

KINDS = {"income": "numerical", "age": "integer", "job": "categorical", "owner": "boolean"}


def mixed_frame(n: int, seed: int) -> pd.DataFrame:
    """Numbers, integers, a category and a boolean, with dependence between them."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, size=n)
    income = 20_000 + 600 * (age - 18) + rng.normal(0, 8_000, size=n)
    job = np.where(income > 45_000, rng.choice(["manager", "engineer"], size=n),
                   rng.choice(["clerk", "driver"], size=n))
    owner = rng.random(n) < (age - 18) / 62
    return pd.DataFrame({"income": income, "age": pd.array(age, dtype="Int64"),
                         "job": job, "owner": owner})


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    return mixed_frame(1500, seed=0)


def test_identical_rows_score_one(real):
    q = quality_scores(real, real.copy(), KINDS)
    assert q["alpha_precision"] > 0.97 and q["beta_recall"] > 0.97
    assert q["n"] == len(real)


def test_fresh_sample_precise_with_recall_near_its_ceiling(real):
    # A fresh real sample: every synthetic row is plausible (α ≈ 1), but a real row's nearest
    # neighbour is synthetic only about half the time, so β-recall sits near 0.5, not 1.
    q = quality_scores(real, mixed_frame(1500, seed=1), KINDS)
    assert q["alpha_precision"] > 0.9
    assert 0.3 < q["beta_recall"] < 0.7


def test_shifted_copy_hurts_precision(real):
    fresh = quality_scores(real, mixed_frame(1500, seed=1), KINDS)
    shifted = mixed_frame(1500, seed=1)
    shifted["income"] += 40_000  # ~3 standard deviations: rows leave the real support
    shifted["age"] += 25
    q = quality_scores(real, shifted, KINDS)
    assert q["alpha_precision"] < fresh["alpha_precision"] - 0.3
    assert q["beta_recall"] < fresh["beta_recall"]


def test_mode_collapse_hurts_recall_more_than_precision(real):
    fresh = quality_scores(real, mixed_frame(1500, seed=1), KINDS)
    rng = np.random.default_rng(2)
    # Every synthetic row is one of 20 real rows: each is plausible, most real rows uncovered.
    collapsed = real.iloc[rng.choice(20, size=len(real))].reset_index(drop=True)
    q = quality_scores(real, collapsed, KINDS)
    assert q["beta_recall"] < 0.15
    assert q["alpha_precision"] > 0.5
    assert fresh["beta_recall"] - q["beta_recall"] > fresh["alpha_precision"] - q["alpha_precision"]


@pytest.mark.parametrize("scaling", ["standard", "minmax"])
def test_seeded_and_subsampled(real, scaling):
    syn = mixed_frame(1500, seed=3)
    a = quality_scores(real, syn, KINDS, scaling=scaling, seed=7, max_rows=500)
    b = quality_scores(real, syn, KINDS, scaling=scaling, seed=7, max_rows=500)
    assert a == b and a["n"] == 500
    assert 0.0 <= a["alpha_precision"] <= 1.0 and 0.0 <= a["beta_recall"] <= 1.0


def test_unequal_sizes_are_matched(real):
    q = quality_scores(real, mixed_frame(400, seed=4), KINDS)
    assert q["n"] == 400


def test_bad_scaling_refused(real):
    with pytest.raises(ValueError, match="scaling"):
        quality_scores(real, real, KINDS, scaling="zscore")


def test_curve_score_bounds():
    alphas = np.linspace(0, 1, 30)
    assert curve_score(alphas, alphas) == pytest.approx(1.0)
    assert curve_score(alphas, np.zeros(30)) == pytest.approx(0.0)
    assert curve_score(alphas, np.ones(30)) == pytest.approx(0.0)


def test_curves_undefined_without_rows():
    alphas, p, r = alpha_beta_curves(np.zeros((1, 3)), np.zeros((0, 3)))
    assert len(alphas) == 30 and np.isnan(p).all() and np.isnan(r).all()
    assert np.isnan(curve_score(alphas, p))
