"""TabSyn's own properties: the EDM blocks, the adaptive β, the latent normalisation, resuming."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from acacia.errors import ParamsError
from acacia.models import make_model
from acacia.models.diffusion.edm import EDMKnown, EDMPrecond, EDMSampler, MLPScoreNet, VectorEDM
from acacia.models.tabsyn import TabSyn, TokenVAE
from acacia.training.loop import TrainConfig, fit

FAST = {"seed": 0, "dim_t": 64, "num_steps": 10,
        "training": {"max_epochs": 5, "batch_size": 64, "progress": False},
        "vae_training": {"max_epochs": 12}}


def test_preconditioning_is_identity_at_zero_noise_and_scaled_at_high_noise():
    torch.manual_seed(0)
    d = EDMPrecond(MLPScoreNet(6, 32), sigma_data=0.5)
    x = torch.randn(5, 6)
    # c_skip → 1 and c_out → 0 as σ → 0: a clean input is returned as is.
    assert torch.allclose(d(x, torch.full((5,), 1e-6)), x, atol=1e-5)
    # At σ ≫ σ_data the output is c_out F ≈ σ_data F: bounded whatever the input scale.
    out = d(x * 1e4, torch.full((5,), 1e4))
    assert out.abs().max() < 10


def test_sampler_grid_matches_edm_and_pins_known_coordinates():
    s = EDMSampler(num_steps=5).sigmas()
    assert len(s) == 6 and float(s[-1]) == 0.0
    assert math.isclose(float(s[0]), 80.0, rel_tol=1e-5) and math.isclose(float(s[-2]), 0.002, rel_tol=1e-4)
    assert (s[:-1].diff() < 0).all()
    torch.manual_seed(0)
    model = VectorEDM(3, dim_t=16)
    known = EDMKnown(torch.full((4, 3), 1.5), torch.tensor([[True, False, False]] * 4))
    a = EDMSampler(num_steps=6).sample(model, 4, 3, torch.Generator().manual_seed(1), known)
    b = EDMSampler(num_steps=6).sample(model, 4, 3, torch.Generator().manual_seed(1), known)
    assert torch.equal(a, b)
    assert torch.all(a[:, 0] == 1.5) and torch.all(a[:, 1:] != 1.5)


def test_edm_learns_a_bimodal_correlated_distribution():
    """Two modes at ±1 on a line y = x: the sampled rows must find both and keep the line."""
    g = torch.Generator().manual_seed(0)
    mode = torch.randint(0, 2, (512, 1), generator=g).float() * 2 - 1
    x = mode + 0.05 * torch.randn(512, 1, generator=g)
    data = torch.cat([x, x + 0.05 * torch.randn(512, 1, generator=g)], 1) * 0.5
    torch.manual_seed(0)
    model = VectorEDM(2, dim_t=32)
    cfg = TrainConfig(max_epochs=30, patience=30, batch_size=32, progress=False, weight_decay=0.0)
    res = fit(model, lambda m, b: m.loss(b), data, cfg)
    assert res.history[-1]["val_loss"] < 0.7 * res.history[0]["val_loss"]
    out = EDMSampler(num_steps=20).sample(model, 500, 2, torch.Generator().manual_seed(0)) / 0.5
    share_pos = float((out[:, 0] > 0).float().mean())
    assert 0.3 < share_pos < 0.7
    assert float((out[:, 0].abs() - 1).abs().median()) < 0.2
    assert float(torch.corrcoef(out.T)[0, 1]) > 0.9


def test_beta_decays_by_lambda_after_patience_stalled_epochs_and_stops_at_beta_min():
    vae = TokenVAE(2, [3], beta_max=1e-2, beta_min=1e-3, beta_decay=0.5, beta_patience=2)
    vae.adapt_beta(1.0)
    vae.adapt_beta(1.1)
    assert math.isclose(float(vae.beta), 1e-2, rel_tol=1e-6)
    vae.adapt_beta(1.2)  # second stalled epoch
    assert math.isclose(float(vae.beta), 5e-3, rel_tol=1e-6)
    vae.adapt_beta(0.9)  # improvement resets the count
    vae.adapt_beta(0.95)
    assert math.isclose(float(vae.beta), 5e-3, rel_tol=1e-6)
    for _ in range(20):
        vae.adapt_beta(2.0)
    assert math.isclose(float(vae.beta), 1e-3, rel_tol=1e-6)


def test_beta_adapts_inside_the_shared_loop_on_validation_reconstruction():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    data = torch.cat([torch.randn(200, 2, generator=g), torch.randint(0, 3, (200, 1), generator=g).float()], 1)
    vae = TokenVAE(2, [3], d_token=4, ffn_factor=4, beta_patience=1, beta_decay=0.5)
    # A large learning rate makes the reconstruction stall now and then, so β has to move.
    cfg = TrainConfig(max_epochs=10, patience=10, batch_size=50, lr=0.05, progress=False)
    res = fit(vae, lambda m, b: m.loss(b), data, cfg)
    # The loop restores the best epoch's state, whose β had seen the validation losses of the
    # epochs before it (each is consumed by the next epoch's first batch): replay them.
    replay = TokenVAE(2, [3], beta_patience=1, beta_decay=0.5)
    for row in res.history[: res.best_epoch - 1]:
        replay.adapt_beta(row["val_loss"])
    assert float(replay.beta) < 1e-2  # some epochs stalled
    assert math.isclose(float(vae.beta), float(replay.beta), rel_tol=1e-6)


@pytest.fixture(scope="module")
def fitted(tiny_portfolio):
    return TabSyn(**FAST).fit(tiny_portfolio)


def test_latents_are_centred_and_phases_chained(fitted, tiny_portfolio):
    table = fitted.codec_.to_table(tiny_portfolio)
    num, codes = fitted.codes_.transform(table)
    z = fitted._encode(torch.from_numpy(np.concatenate([num, codes.astype(np.float32)], 1)))
    assert z.shape == (len(tiny_portfolio), fitted.vae_.n_tokens * 4)
    # one token per table column, the null flags sharing their column's token
    assert fitted.vae_.n_tokens == len(table.columns)
    assert torch.allclose(((z - fitted.latent_mean_) / 2).mean(0), torch.zeros(z.shape[1]), atol=1e-4)
    res = fitted.training_result_
    assert res.stopped_epoch == fitted.vae_result_.stopped_epoch + fitted.diffusion_result_.stopped_epoch
    assert [h["epoch"] for h in res.history] == list(range(1, res.stopped_epoch + 1))
    assert res.max_epochs == 17


def test_vae_reconstructs_categories_of_training_rows(fitted, tiny_portfolio):
    table = fitted.codec_.to_table(tiny_portfolio)
    num, codes = fitted.codes_.transform(table)
    with torch.no_grad():
        mu, _ = fitted.vae_.encode(torch.from_numpy(num), torch.from_numpy(codes))
        x_num, logits = fitted.vae_.decode(mu)
    pred = logits.argmax(-1).numpy()
    # Beyond guessing each category's most frequent level (measured after 12 epochs: +0.23 on
    # average over heating_energy, ev and financial_ease), and numbers better than their mean.
    gains = [(pred[:, j] == codes[:, j]).mean() - np.bincount(codes[:, j]).max() / len(codes)
             for j, slot in enumerate(fitted.codes_.slots_) if slot.role == "categorical"]
    assert np.mean(gains) > 0.1, gains
    assert float(((x_num.numpy() - num) ** 2).mean()) < 0.8 * float(num.var(0).mean())


def test_resume_after_the_vae_phase_skips_it(tiny_portfolio, tmp_path):
    params = {**FAST, "training": {"max_epochs": 3, "batch_size": 64, "progress": False},
              "vae_training": {"max_epochs": 3}}
    a = TabSyn(**params)
    a.checkpoint_dir = tmp_path
    a.fit(tiny_portfolio)
    assert (tmp_path / "vae_done.pt").exists()
    b = TabSyn(**params)
    b.checkpoint_dir = tmp_path
    b.fit(tiny_portfolio)
    assert b.vae_result_.history == a.vae_result_.history
    for k, v in a.edm_.state_dict().items():
        assert torch.equal(v, b.edm_.state_dict()[k]), k
    x, y = a.sample(30, seed=4), b.sample(30, seed=4)
    assert x.customers.equals(y.customers)


def test_bad_params_name_the_key():
    # __init__ only stores; make_model (the train stage) and fit check
    with pytest.raises(ParamsError, match=r"train\.models\.tabsyn\.vae_training.*nonsense"):
        make_model("tabsyn", {"vae_training": {"nonsense": 1}})
    with pytest.raises(ParamsError, match="latent_scale"):
        TabSyn(latent_scale=0).check_params()


def test_category_draws_are_reproducible_and_valid(fitted, tiny_portfolio):
    fitted.categories = "sample"
    try:
        a, b = fitted.sample(60, seed=9), fitted.sample(60, seed=9)
    finally:
        fitted.categories = "argmax"
    assert a.customers.equals(b.customers)
    a.validate("synthetic")
    assert set(a.customers["heating_energy"]) <= set(tiny_portfolio.customers["heating_energy"])


def test_a_finished_vae_of_other_params_is_not_resumed(tiny_portfolio, tmp_path):
    params = {**FAST, "training": {"max_epochs": 1, "batch_size": 64, "progress": False},
              "vae_training": {"max_epochs": 1}}
    a = TabSyn(**params)
    a.checkpoint_dir = tmp_path
    a.fit(tiny_portfolio)
    b = TabSyn(**{**params, "vae_training": {"max_epochs": 2}})
    b.checkpoint_dir = tmp_path
    with pytest.raises(ParamsError, match="vae_done.pt"):
        b.fit(tiny_portfolio)
