"""MTabGen's own promises: dynamic masking, conditioning attention that reads only the observed
columns, and one model for synthesis and imputation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from acacia.models import make_model
from acacia.models.diffusion import Known, StochasticSampler
from acacia.models.diffusion.encoder_decoder import EncoderDecoderDenoiser
from acacia.models.diffusion.masked import MaskedConditionDiffusion, draw_observed
from acacia.training.loop import TrainConfig, fit
from conftest import toy_table

TINY = {"d_token": 8, "n_heads": 2, "dim_t": 32, "num_timesteps": 8,
        "training": {"max_epochs": 3, "batch_size": 64, "progress": False}}


def test_dynamic_masking_mixes_synthesis_and_imputation():
    torch.manual_seed(0)
    obs = draw_observed(20_000, 6, p_unconditional=0.3, device=torch.device("cpu"))
    assert obs.shape == (20_000, 6) and obs.dtype == torch.bool
    assert not obs.all(1).any()  # every row keeps a column to generate
    none = ~obs.any(1)
    # the unconditional share, plus conditional rows that drew nothing: E[(1 − r)^6] = 1/7
    assert abs(float(none.float().mean()) - (0.3 + 0.7 / 7)) < 0.02
    counts = obs[~none].sum(1)
    assert set(counts.unique().tolist()) == {1, 2, 3, 4, 5}  # every amount of conditioning occurs


def _net() -> EncoderDecoderDenoiser:
    torch.manual_seed(0)
    # 3 numbers (the second nullable: its flag shares token 1), 2 categories with their own tokens
    return EncoderDecoderDenoiser(3, 3, 4, num_token=[0, 1, 2], cat_token=[3, 1, 4], d_token=8, n_heads=2,
                                  dim_t=16).eval()


def _inputs(b: int, seed: int) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    x_t, x_0 = torch.randn(b, 3, generator=g), torch.randn(b, 3, generator=g)
    c_t = torch.nn.functional.one_hot(torch.randint(0, 4, (b, 3), generator=g), 4).float()
    c_0 = torch.nn.functional.one_hot(torch.randint(0, 3, (b, 3), generator=g), 4).float()
    t = torch.rand(b, 1, generator=g)
    return x_t, c_t, x_0, c_0, t, torch.full((b, 3), 2.0)


@torch.no_grad()
def test_conditioning_attention_reads_observed_columns_only():
    net = _net()
    x_t, c_t, x_0, c_0, t, s = _inputs(16, 1)
    observed = torch.zeros(16, 5, dtype=torch.bool)
    observed[:, [0, 4]] = True
    num, logits = net(x_t, c_t, x_0, c_0, observed, t, s)
    assert torch.equal(num[:, 0], x_0[:, 0])  # an observed number comes back as given
    # Clean values of unobserved columns never reach the network ...
    x_0b, c_0b = x_0.clone(), c_0.clone()
    x_0b[:, 1:] += 5.0
    c_0b[:, :2] = c_0b[:, :2].roll(1, dims=-1)
    num_b, logits_b = net(x_t, c_t, x_0b, c_0b, observed, t, s)
    assert torch.allclose(num, num_b, atol=1e-5) and torch.allclose(logits, logits_b, atol=1e-5)
    # ... observed ones do, through the cross-attention.
    x_0c = x_0.clone()
    x_0c[:, 0] += 5.0
    num_c, _ = net(x_t, c_t, x_0c, c_0, observed, t, s)
    assert (num_c[:, 1:] - num[:, 1:]).abs().max() > 1e-3


@torch.no_grad()
def test_unconditional_rows_same_alone_or_in_a_mixed_batch():
    """A batch with nothing observed takes the encoder's short path: it must give what the same
    rows give next to conditioned rows (training sees the mixed batches, sampling the short path)."""
    net = _net()
    x_t, c_t, x_0, c_0, t, s = _inputs(12, 2)
    observed = torch.zeros(12, 5, dtype=torch.bool)
    observed[6:, 2] = True
    mixed = net(x_t, c_t, x_0, c_0, observed, t, s)
    alone = net(x_t[:6], c_t[:6], x_0[:6], c_0[:6], observed[:6], t[:6], s[:6])
    assert torch.allclose(mixed[0][:6], alone[0], atol=1e-5)
    assert torch.allclose(mixed[1][:6], alone[1], atol=1e-5)


@pytest.fixture(scope="module")
def toy_model():
    torch.manual_seed(0)
    model = MaskedConditionDiffusion(1, [2, 2], d_token=16, n_heads=2, dim_t=32)
    res = fit(model, lambda m, b: m.loss(b), toy_table(),
              TrainConfig(max_epochs=60, batch_size=128, patience=60, weight_decay=0.0, progress=False))
    return model.eval(), res


def test_masked_loss_is_finite_and_decreases(toy_model):
    _, res = toy_model
    val = [row["val_loss"] for row in res.history]
    assert np.isfinite(val).all()
    assert res.best_val_loss < 0.7 * val[0]


def _condition(num=None, cat=None):
    """One row's condition on the toy table, as ``conditioned_on`` takes it."""
    known_num, num_mask = torch.zeros(1, 1), torch.zeros(1, 1, dtype=torch.bool)
    known_cat, cat_mask = torch.zeros(1, 2, dtype=torch.long), torch.zeros(1, 2, dtype=torch.bool)
    if num is not None:
        known_num[0, 0], num_mask[0, 0] = num, True
    if cat is not None:
        known_cat[0, 0], cat_mask[0, 0] = cat, True
    return (known_num, known_cat, num_mask, cat_mask)


@torch.no_grad()
def test_one_model_synthesises_and_imputes(toy_model):
    model, _ = toy_model
    sampler = StochasticSampler(num_timesteps=20, chunk_size=500, guidance_num=0, guidance_cat=0)
    x, c = sampler.sample(model, 1000, torch.Generator().manual_seed(1))
    assert (c < 2).all()
    assert abs(float(c[:, 0].float().mean()) - 0.5) < 0.1
    assert float(((x[:, 0] > 0).long() == c[:, 1]).float().mean()) > 0.85
    # Given c = 1 in the encoder, x is generated around +1.5 (conditional generation) ...
    cond = StochasticSampler(num_timesteps=20, churn=0.0, guidance_num=0, guidance_cat=0, impute_condition="x_0")
    for value, sign in ((1, 1.0), (0, -1.0)):
        args = _condition(cat=value)
        known = Known(*(a.expand(300, -1) for a in (args[0], args[2], args[1], args[3])))
        with model.conditioned_on(*args):
            x, c = cond.sample(model, 300, torch.Generator().manual_seed(2), known)
        assert (c[:, 0] == value).all()
        assert sign * float(x[:, 0].mean()) > 1.0
    # ... and given x = 1.6, the categories are imputed from it (c = 1, x > 0).
    args = _condition(num=1.6)
    known = Known(*(a.expand(300, -1) for a in (args[0], args[2], args[1], args[3])))
    with model.conditioned_on(*args):
        x, c = cond.sample(model, 300, torch.Generator().manual_seed(3), known)
    assert torch.allclose(x[:, 0], torch.full((300,), 1.6))
    assert float(c[:, 0].float().mean()) > 0.85 and float(c[:, 1].float().mean()) > 0.85


def test_conditions_on_a_number_and_a_null_and_bad_values(tiny_portfolio):
    from acacia.data.portfolio import Portfolio
    from acacia.data.schema import Schema

    schema = Schema(columns=list(tiny_portfolio.schema.columns), series=None)
    p = Portfolio(tiny_portfolio.customers, tiny_portfolio.consumption.iloc[:0], schema)
    model = make_model("mtabgen", {"seed": 0, **TINY}).fit(p)
    out = model.sample(20, conditions={"surface_m2": 75.0, "financial_ease": None, "household_size": 3}, seed=1)
    assert (out.customers["surface_m2"] == 75.0).all()
    assert out.customers["financial_ease"].isna().all()
    assert (out.customers["household_size"] == 3).all()
    day = pd.Timestamp("2010-05-01")
    assert (model.sample(5, conditions={"contract_start_date": day}).customers["contract_start_date"] == day).all()
    with pytest.raises(ValueError, match="heating_energy='coal'"):
        model.sample(5, conditions={"heating_energy": "coal"})
    with pytest.raises(ValueError, match="unknown column 'nope'"):
        model.sample(5, conditions={"nope": 1})
    with pytest.raises(ValueError, match="household_size=null"):
        model.sample(5, conditions={"household_size": None})
    assert len(model.sample(0, conditions={"heating_energy": "gas"})) == 0


def test_series_patches_share_tokens_and_refuse_partial_conditions(tiny_portfolio):
    model = make_model("mtabgen", {"seed": 0, **TINY}).fit(tiny_portfolio)  # 12 weeks, patches of 8
    tokens = dict(zip(model.codes_.numeric_, model.num_token_, strict=True))
    weeks = [tokens[f"kwh_{i:04d}"] for i in range(12)]
    assert weeks == [weeks[0]] * 8 + [weeks[8]] * 4 and weeks[0] != weeks[8]
    assert len(set(tokens.values())) == len(tokens) - 12 + 2  # the attributes keep a token each
    with pytest.raises(ValueError, match=r"kwh_0003.*series_patch: 1"):
        model.sample(5, conditions={"kwh_0003": 10.0})
    obs = model.net_.observed_tokens(torch.eye(len(tokens), dtype=torch.bool)[[model.codes_.numeric_.index("kwh_0003")]],
                                     torch.zeros(1, model.net_.n_cat, dtype=torch.bool))
    assert int(obs.sum()) == 1 and bool(obs[0, weeks[0]])
