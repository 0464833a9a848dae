"""The diffusion blocks of TabDiff / CausalDiffTab: schedules, forward process, loss, sampler,
codec, causal structure estimation; and the two models' own promises."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from acacia.models import make_model
from acacia.models.diffusion import Known, MixedDiffusion, StochasticSampler, losses
from acacia.models.diffusion.causal import notears, one_hot_nodes
from acacia.models.diffusion.schedules import MaskingSchedule, PowerMeanSchedule, soft_mask_tokens
from acacia.training.loop import TrainConfig, fit
from acacia.transforms.table import TableCodec
from acacia.transforms.tensor import CodesCodec
from conftest import toy_table

TINY = {"dim_t": 32, "num_timesteps": 8, "training": {"max_epochs": 3, "batch_size": 64, "progress": False}}


def test_power_mean_schedule_endpoints_monotone_and_inverse():
    sched = PowerMeanSchedule(3)
    with torch.no_grad():
        sched.rho_raw.copy_(torch.tensor([-3.0, 0.0, 7.0]))  # ρ ≈ 5.05, 5.69, 12.0
    t = torch.linspace(0, 1, 101)[:, None]
    sigma = sched.sigma(t).detach()
    assert torch.allclose(sigma[0], torch.full((3,), 0.002), rtol=1e-4)
    assert torch.allclose(sigma[-1], torch.full((3,), 80.0), rtol=1e-4)
    assert (sigma.diff(dim=0) > 0).all()
    assert torch.allclose(sched.inverse(sigma).detach(), t.expand(-1, 3), atol=1e-4)
    # Fixed schedule: EDM's ρ = 7 for every column.
    assert torch.allclose(PowerMeanSchedule(2, learnable=False).rho(), torch.full((2,), 7.0))


def test_masking_schedule_probability_at_ends_and_rate():
    sched = MaskingSchedule(2)
    with torch.no_grad():
        sched.k_raw.copy_(torch.tensor([-6.0, 1.0]))
    t = torch.linspace(0, 1, 201)[:, None]
    p = sched.move_chance(t).detach()
    assert torch.allclose(p[0], torch.full((2,), 1e-5))
    assert torch.allclose(p[-1], torch.full((2,), 1 - 1e-3))
    assert (p.diff(dim=0) > 0).all()
    # rate is dσ/dt (central differences, away from the steep end at t = 1)
    u, h = torch.linspace(0.05, 0.9, 50)[:, None], 1e-3
    numeric = (sched.sigma(u + h) - sched.sigma(u - h)).detach() / (2 * h)
    assert torch.allclose(sched.rate(u).detach(), numeric, rtol=1e-2, atol=1e-3)


def test_soft_masking_is_hard_forward_and_trains_the_schedule():
    torch.manual_seed(0)
    codes = torch.randint(0, 3, (2000, 2))
    move = torch.full((2000, 2), 0.3, requires_grad=True)
    hard, onehot = soft_mask_tokens(codes, move, width=4)
    assert set(onehot.detach().unique().tolist()) <= {0.0, 1.0}
    assert ((hard == 3) == (onehot[..., 3] > 0)).all()
    assert abs(float((hard == 3).float().mean()) - 0.3) < 0.03
    onehot[..., 3].sum().backward()
    assert move.grad is not None and move.grad.abs().sum() > 0


@pytest.fixture(scope="module")
def toy_model():
    data = toy_table()
    torch.manual_seed(0)
    model = MixedDiffusion(1, [2, 2], dim_t=64)
    # Batches of 64: with batches of 128 the model had not yet learnt the
    # categorical marginal (P(c=1) 0.36-0.44 instead of 0.5, depending on the CPU's float
    # kernels and thread count); with 64 it is 0.53-0.54 on 1 and 2 threads (measured).
    model.set_budget(len(data) // 64, 60)
    model.eval()
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        untrained = float(model.loss(data))
    res = fit(model, lambda m, b: m.loss(b), data,
              TrainConfig(max_epochs=60, batch_size=64, patience=60, weight_decay=0.0, progress=False))
    res.untrained_loss = untrained
    return model, res


def test_loss_is_finite_and_decreases(toy_model):
    _, res = toy_model
    val = [row["val_loss"] for row in res.history]
    assert np.isfinite(val).all()
    # Against the untrained model's loss: the first epoch's depends on how many steps it held.
    assert res.best_val_loss < 0.7 * res.untrained_loss


def test_sampler_is_deterministic_and_learns_the_dependency(toy_model):
    model, _ = toy_model
    sampler = StochasticSampler(num_timesteps=30, chunk_size=500)
    a = sampler.sample(model, 1200, torch.Generator().manual_seed(1))
    b = sampler.sample(model, 1200, torch.Generator().manual_seed(1))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    x, c = a[0][:, 0], a[1]
    assert (c < 2).all()  # no [MASK] left, no padding class
    assert abs(float(c[:, 0].float().mean()) - 0.5) < 0.08
    assert float(x[c[:, 0] == 1].mean()) > 1.0 and float(x[c[:, 0] == 0].mean()) < -1.0
    assert float(((x > 0).long() == c[:, 1]).float().mean()) > 0.9


def test_imputation_pins_known_values(toy_model):
    model, _ = toy_model
    n = 300
    known = Known(num=torch.zeros(n, 1), num_mask=torch.zeros(n, 1, dtype=torch.bool),
                  cat=torch.ones(n, 2, dtype=torch.long), cat_mask=torch.tensor([[True, False]]).expand(n, 2))
    x, c = StochasticSampler(num_timesteps=30).sample(model, n, torch.Generator().manual_seed(2), known)
    assert (c[:, 0] == 1).all()
    assert float(x[:, 0].mean()) > 1.0  # generated around the condition, not merely beside it


def test_causal_regularizer_matches_its_definition():
    e = torch.tensor([[1.0, 2.0, -1.0], [0.5, -1.0, 2.0]])
    probs = torch.tensor([[[0.2, 0.8, 0.0]], [[0.6, 0.4, 0.0]]])
    terms = losses.Terms(num=torch.zeros(()), cat=torch.zeros(()), eps_hat=e, cat_probs=probs)
    graph = torch.zeros(3, 3)
    graph[0, 1] = 1.0
    cat_graph = torch.tensor([[0.0, 1.0], [0.0, 0.0]])
    got = losses.causal_regularizer(terms, graph, cat_graph, torch.tensor([0, 1]))
    expected = (1 * 2 + 0.5 * -1) / (2 * 9) + (0.2 * 0.8 + 0.6 * 0.4) / (2 * 4)
    assert float(got) == pytest.approx(expected)
    assert float(losses.causal_regularizer(terms, torch.zeros(3, 3), None, None)) == 0.0


def test_notears_recovers_a_planted_dependency():
    rng = np.random.default_rng(0)
    n = 300
    x0, x2 = rng.normal(size=n), rng.normal(size=n)
    x1 = np.tanh(2 * x0) + 0.3 * rng.normal(size=n)
    x = np.stack([x0, x1, x2], 1)
    x = (x - x.mean(0)) / x.std(0)
    w = notears(x, nonlinear=True, inner_iter=100)
    assert w[0, 1] > 0.3, w  # the planted edge, in its direction
    assert w[1, 0] < 0.1 and w[:, 2].max() < 0.1 and w[2, :].max() < 0.1, w
    assert np.all(np.diag(w) == 0)


def test_one_hot_nodes_layout():
    codes = np.array([[0, 2], [1, 0]])
    x, index = one_hot_nodes(codes, [2, 3], width=4)
    assert x.tolist() == [[0, 0, 0, 1], [1, 1, 0, 0]]
    assert index.tolist() == [1, 4, 5, 6]  # the binary column keeps its second level only


@pytest.mark.parametrize("dequantize", [False, True])
def test_codes_codec_round_trip(tiny_portfolio, dequantize):
    codec = TableCodec().fit(tiny_portfolio)
    table = codec.to_table(tiny_portfolio)
    cc = CodesCodec().fit(table, codec.kinds)
    num, codes = cc.transform(table, rng=np.random.default_rng(0) if dequantize else None)
    assert num.dtype == np.float32 and codes.dtype == np.int64
    nullable = [j for j, s in zip(cc.attach, cc.slots_, strict=True) if j is not None]
    null_scores = np.concatenate([num[codes[:, k] == 1, j] for k, j in enumerate(cc.attach) if j is not None])
    assert nullable and len(null_scores)
    # Dequantised, null rows carry draws, not a point mass at 0.
    assert (np.unique(null_scores).size > 1) == dequantize
    assert {s.role for s in cc.slots_} == {"categorical", "missing"}
    assert all(cc.numeric_[j] == s.column for j, s in zip(cc.attach, cc.slots_, strict=True) if j is not None)
    back = cc.inverse_transform(num, codes)
    for col in table.columns:
        if codec.kinds[col] in ("categorical", "boolean"):
            pd.testing.assert_series_equal(back[col].astype(object), table[col].astype(object), check_names=False)
        else:
            a, b = table[col].to_numpy(float), back[col].to_numpy(float)
            assert np.array_equal(np.isnan(a), np.isnan(b)), col
            assert np.allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=1e-6, atol=1e-6 * np.nanmax(np.abs(a))), col


def test_causal_off_is_tabdiff(tiny_portfolio):
    a = make_model("tabdiff", {"seed": 3, **TINY}).fit(tiny_portfolio).sample(30, seed=1)
    b = make_model("causal_diff_tab", {"seed": 3, "causal": False, **TINY}).fit(tiny_portfolio).sample(30, seed=1)
    pd.testing.assert_frame_equal(a.customers, b.customers)
    pd.testing.assert_frame_equal(a.consumption, b.consumption)


def test_causal_diff_tab_keeps_graphs_and_warms_up(tiny_portfolio):
    model = make_model("causal_diff_tab", {"seed": 0, "causal_method": "linear", "causal_inner_iter": 20,
                                           "causal_max_iter": 5, **TINY}).fit(tiny_portfolio)
    net = model.net_
    n_num = len(model.codes_.numeric_)
    assert model.causal_num_.shape == (n_num, n_num) and net.num_graph.shape == (n_num, n_num)
    assert net.cat_graph.shape == (len(net.cat_index), len(net.cat_index))
    assert float(net.num_graph.sum() + net.cat_graph.sum()) > 0  # kWh weeks depend on each other
    net.train()
    net.set_budget(10, 100)
    net.steps_done.fill_(0)
    assert net.weight() == 0.0
    net.steps_done.fill_(10 * 25)
    assert net.weight() == pytest.approx(0.5)
    net.steps_done.fill_(10 * 80)
    assert net.weight() == pytest.approx(1.0)
    net.eval()


@pytest.mark.parametrize("name", ["tabdiff", "causal_diff_tab"])
def test_customers_only_portfolio_and_numeric_conditions(name, tiny_portfolio):
    """No consumption series (like Adult), and conditions on a number and a null."""
    from acacia.data.portfolio import Portfolio
    from acacia.data.schema import Schema

    schema = Schema(columns=list(tiny_portfolio.schema.columns), series=None)
    cust = tiny_portfolio.customers
    empty = tiny_portfolio.consumption.iloc[:0]
    p = Portfolio(cust, empty, schema)
    model = make_model(name, {"seed": 0, "causal_method": "linear", "causal_inner_iter": 10, **TINY}
                       if name == "causal_diff_tab" else {"seed": 0, **TINY}).fit(p)
    out = model.sample(40, seed=0)
    assert list(out.customers.columns) == list(cust.columns) and len(out.consumption) == 0
    cond = model.sample(20, conditions={"household_size": 3, "surface_m2": None}, seed=0)
    assert (cond.customers["household_size"] == 3).all()
    assert cond.customers["surface_m2"].isna().all()
    with pytest.raises(ValueError, match="not a known value"):
        model.sample(5, conditions={"heating_energy": "nuclear"})
