"""TabDDPM's blocks (discrete schedules, Gaussian and multinomial diffusion, the joint model) and
the model's own promises: exact forward marginals, a tight ELBO, reverse chains that recover the
data under an exact denoiser, learning, and native imputation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from acacia.errors import ParamsError
from acacia.models import make_model
from acacia.models.diffusion.discrete import (
    DiscreteSchedule,
    GaussianDiffusion,
    beta_schedule,
    spaced_steps,
)
from acacia.models.diffusion.gaussian_multinomial import GaussianMultinomialDiffusion
from acacia.models.diffusion.mlp import MLPDenoiser
from acacia.models.diffusion.multinomial import MultinomialDiffusion
from acacia.models.diffusion.samplers import Known
from acacia.training.loop import TrainConfig, fit


def test_beta_schedules_match_ddpm_and_cosine_definitions():
    linear = beta_schedule("linear", 1000)
    assert linear[0] == pytest.approx(1e-4) and linear[-1] == pytest.approx(0.02)
    # Rescaled for fewer steps so that the chain ends at the same noise.
    assert beta_schedule("linear", 100)[-1] == pytest.approx(0.2)
    cos = beta_schedule("cosine", 100)
    bar = np.cumprod(1 - cos)
    assert (np.diff(bar) < 0).all() and bar[-1] < 1e-5 and cos.max() <= 0.999
    s = 0.008
    expected = np.cos((np.arange(1, 101) / 100 + s) / (1 + s) * np.pi / 2) ** 2 / np.cos(s / (1 + s) * np.pi / 2) ** 2
    assert np.allclose(bar[:-1], expected[:-1], rtol=1e-6)  # the last β is clipped at 0.999
    with pytest.raises(ValueError, match="schedule"):
        beta_schedule("quadratic", 10)


def _gaussian_chain_variance(v: float, steps: int = 100, n: int = 50_000) -> tuple[float, float]:
    """(mean, variance) at the end of the reverse chain through ``steps`` of 100 cosine steps
    (all of them: the trained chain itself), each with the exact noise of x_0 ~ N(0, v):
    E[ε | x_t] = √(1−ᾱ) x_t / (ᾱ v + 1 − ᾱ)."""
    gd = GaussianDiffusion(100, "cosine", None if steps == 100 else spaced_steps(100, steps))
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 1, generator=g)
    for step in range(steps - 1, -1, -1):
        t = torch.full((n,), step)
        a = gd.sched.at("alphas_cumprod", t)
        x = gd.p_sample(x, t, (1 - a).sqrt() * x / (a * v + 1 - a), torch.randn(n, 1, generator=g))
    return float(x.mean()), float(x.var())


def test_gaussian_reverse_chain_with_the_exact_noise_recovers_the_data():
    """Ancestral sampling with the exact noise of x_0 ~ N(0, v) must return N(0, v)."""
    mean, var = _gaussian_chain_variance(0.25)
    assert mean == pytest.approx(0.0, abs=0.01)
    assert var == pytest.approx(0.25, rel=0.05)


def test_multinomial_forward_marginals_and_prior():
    md = MultinomialDiffusion([3, 2], 100)
    g = torch.Generator().manual_seed(0)
    n = 40_000
    codes = torch.zeros(n, 2, dtype=torch.long)
    for step in (0, 40, 99):
        a = float(md.sched.alphas_cumprod[step])
        got = md.q_sample(codes, torch.full((n,), step), g)
        for j, k in enumerate((3, 2)):
            freq = torch.bincount(got[:, j], minlength=k).float() / n
            expected = torch.full((k,), (1 - a) / k)
            expected[0] += a
            assert torch.allclose(freq, expected, atol=0.01), (step, j)
    prior = md.prior_sample(n, g, torch.device("cpu"))
    assert torch.allclose(torch.bincount(prior[:, 0]).float() / n, torch.full((3,), 1 / 3), atol=0.01)
    assert set(prior[:, 1].unique().tolist()) == {0, 1}


def test_multinomial_elbo_is_tight_for_the_optimal_denoiser():
    """In the x_0 parameterisation the exact reverse process of one column with marginal π is
    x̂_0 = π at every step; its loss (T · KL + prior, averaged over t) is then the −ELBO, which
    a 100-step chain makes nearly equal to the entropy of π. A wrong x̂_0 must cost more."""
    torch.manual_seed(0)
    md = MultinomialDiffusion([3], 100)
    pi = torch.tensor([0.6, 0.3, 0.1])
    n = 100_000
    x0 = torch.multinomial(pi, n, replacement=True)[:, None]
    t = torch.randint(0, 100, (n,))
    xt = md.q_sample(x0, t)
    entropy = float(-(pi * pi.log()).sum())
    optimal = md.loss([pi.log().expand(n, 1, 3)], x0, xt, t)
    assert float(optimal.mean()) == pytest.approx(entropy, abs=0.05)
    wrong = md.loss([torch.zeros(n, 1, 3)], x0, xt, t)  # uniform x̂_0
    assert float(wrong.mean()) > entropy + 0.1


def test_multinomial_reverse_chain_recovers_the_marginals():
    md = MultinomialDiffusion([3, 2, 3], 50)
    g = torch.Generator().manual_seed(1)
    n = 20_000
    targets = {2: torch.tensor([[0.9, 0.1]]), 3: torch.tensor([[0.6, 0.3, 0.1], [0.2, 0.2, 0.6]])}
    codes = md.prior_sample(n, g, torch.device("cpu"))
    for step in range(49, -1, -1):
        logits = [targets[k].log().expand(n, -1, -1) for k in md.groups]
        codes = md.p_sample(logits, codes, torch.full((n,), step), g)
    for j, p in ((0, targets[3][0]), (1, targets[2][0]), (2, targets[3][1])):
        freq = torch.bincount(codes[:, j], minlength=len(p)).float() / n
        assert torch.allclose(freq, p, atol=0.015), j


def test_respaced_schedule_keeps_the_marginals_of_the_kept_steps():
    keep = spaced_steps(100, 10)
    assert keep[0] == 0 and keep[-1] == 99 and len(keep) == 10 and (np.diff(keep) > 0).all()
    full, short = DiscreteSchedule(100), DiscreteSchedule(100, keep=keep)
    assert short.num_timesteps == 10
    assert torch.allclose(short.alphas_cumprod, full.alphas_cumprod[keep], rtol=1e-5)
    # Keeping every step is the trained chain itself.
    assert torch.allclose(DiscreteSchedule(100, keep=np.arange(100)).betas, full.betas, atol=1e-6)
    with pytest.raises(ValueError, match="steps"):
        spaced_steps(100, 101)


def test_respaced_reverse_chains_recover_the_data():
    """Fewer, longer jumps with the exact denoiser. Unit-variance data (a quantile-normal score's
    marginal) comes back at 10 jumps; a narrower component gets some excess variance from the
    "fixed large" reverse variance β (measured 0.304 for v = 0.25 at 10 jumps, 0.279 at 20),
    which more steps remove. The multinomial chain recovers its marginals at 10 jumps."""
    mean, var = _gaussian_chain_variance(1.0, 10)
    assert mean == pytest.approx(0.0, abs=0.01) and var == pytest.approx(1.0, rel=0.03)
    excess = [_gaussian_chain_variance(0.25, k)[1] - 0.25 for k in (10, 20, 50)]
    assert excess[0] > excess[1] > excess[2] > 0 and excess[2] < 0.0125
    keep = spaced_steps(100, 10)
    g = torch.Generator().manual_seed(0)
    md = MultinomialDiffusion([3], 100, keep=keep)
    p = torch.tensor([[0.6, 0.3, 0.1]])
    codes = md.prior_sample(20_000, g, torch.device("cpu"))
    for step in range(9, -1, -1):
        codes = md.p_sample([p.log().expand(20_000, -1, -1)], codes, torch.full((20_000,), step), g)
    assert torch.allclose(torch.bincount(codes[:, 0], minlength=3).float() / 20_000, p[0], atol=0.015)


def _two_cluster_data(n: int = 2000) -> torch.Tensor:
    """A category c ∈ {0, 1} that sets the sign of a number: x ≈ ±1.5."""
    g = torch.Generator().manual_seed(0)
    c = (torch.rand(n, generator=g) < 0.3).long()
    x = (2 * c - 1).float() * 1.5 + 0.3 * torch.randn(n, generator=g)
    return torch.stack([x, c.float()], 1)


def test_joint_model_learns_and_imputes_the_dependency():
    data = _two_cluster_data()
    torch.manual_seed(0)
    net = GaussianMultinomialDiffusion(1, [2], MLPDenoiser(3, (64, 64), dim_t=32), num_timesteps=30,
                                       clip_denoised=3.0)
    cfg = TrainConfig(max_epochs=40, patience=40, batch_size=128, lr=2e-3, progress=False)
    result = fit(net, lambda m, b: m.loss(b), data, cfg)
    assert result.history[-1]["train_loss"] < 0.7 * result.history[0]["train_loss"]
    gen = torch.Generator().manual_seed(0)
    num, codes = net.sample(2000, gen)
    assert abs(float(codes.float().mean()) - 0.3) < 0.06
    assert float(((num[:, 0] > 0) == (codes[:, 0] == 1)).float().mean()) > 0.9
    # The same model through 10 of its 30 steps keeps both the marginal and the dependency;
    # steps = T is the trained chain, draw for draw.
    num, codes = net.sample(2000, torch.Generator().manual_seed(0), steps=10)
    assert abs(float(codes.float().mean()) - 0.3) < 0.06
    assert float(((num[:, 0] > 0) == (codes[:, 0] == 1)).float().mean()) > 0.9
    full = net.sample(50, torch.Generator().manual_seed(5))
    same = net.sample(50, torch.Generator().manual_seed(5), steps=30)
    assert all(torch.equal(a, b) for a, b in zip(full, same, strict=True))
    # Imputation: pinning the category moves the number to its side; pinning the number, the category.
    n = 400
    for c, sign in ((0, -1), (1, 1)):
        known = Known(torch.zeros(n, 1), torch.zeros(n, 1, dtype=torch.bool),
                      torch.full((n, 1), c), torch.ones(n, 1, dtype=torch.bool))
        right = []
        for rounds in (1, 3):
            num, codes = net.sample(n, torch.Generator().manual_seed(2), known, resample_rounds=rounds)
            assert (codes == c).all()
            right.append(float((torch.sign(num[:, 0]) == sign).float().mean()))
        # Replacement steers the number only weakly (measured 0.81 / 0.86 for c = 0, 0.45 / 0.65
        # for c = 1, against 0.7 / 0.3 by chance); resampling rounds strengthen it.
        chance = 0.7 if c == 0 else 0.3
        assert right[0] > chance + 0.05
        if c == 1:
            assert right[1] > right[0] + 0.1
    known = Known(torch.full((n, 1), 1.5), torch.ones(n, 1, dtype=torch.bool),
                  torch.zeros(n, 1, dtype=torch.long), torch.zeros(n, 1, dtype=torch.bool))
    num, codes = net.sample(n, torch.Generator().manual_seed(3), known)
    assert torch.equal(num[:, 0], torch.full((n,), 1.5))
    assert float(codes.float().mean()) > 0.9


@pytest.fixture(scope="module")
def small_tabddpm(tiny_portfolio):
    params = {"seed": 0, "d_layers": [64, 64], "num_timesteps": 20,
              "training": {"max_epochs": 5, "batch_size": 64, "progress": False}}
    return make_model("tabddpm", params).fit(tiny_portfolio)


def test_conditions_on_numbers_dates_and_nulls_are_exact(small_tabddpm):
    out = small_tabddpm.sample(30, conditions={"surface_m2": None, "contract_start_date": "2010-05-01",
                                               "household_size": 3}, seed=4).customers
    assert out["surface_m2"].isna().all()
    assert (out["contract_start_date"] == np.datetime64("2010-05-01")).all()
    assert (out["household_size"] == 3).all()
    with pytest.raises(ValueError, match="heating_energy"):
        small_tabddpm.sample(5, conditions={"heating_energy": "coal"})
    with pytest.raises(ValueError, match="household_size"):
        small_tabddpm.sample(5, conditions={"household_size": None})


def test_bad_params_name_the_key():
    for bad, key in (({"num_timesteps": 0}, "num_timesteps"), ({"schedule": "sqrt"}, "schedule"),
                     ({"d_layers": []}, "d_layers"), ({"dropout": 1.5}, "dropout"),
                     ({"sample_steps": 101}, "sample_steps"), ({"sample_steps": 0}, "sample_steps")):
        with pytest.raises(ParamsError, match=rf"train\.models\.tabddpm\.{key}"):
            make_model("tabddpm", bad)
