"""CTGAN specifics the common contract does not see: resume through the two-optimizer loop,
the PacGAN batch rounding, and the native conditional sampler."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

import acacia.models.ctgan_variant as ctgan
from acacia.errors import ParamsError
from acacia.models import make_model

TINY = {"seed": 0, "generator_dim": [32], "discriminator_dim": [32], "embedding_dim": 8}


def build(**training):
    return make_model("ctgan_variant", {**TINY, "training": {"batch_size": 64, "progress": False, **training}})


def test_killed_fit_resumes_to_the_same_generator(tiny_portfolio, tmp_path, monkeypatch):
    budget = {"max_epochs": 6, "patience": 100, "checkpoint_every": 2}
    full = build(**budget).fit(tiny_portfolio)

    class Killed(Exception):
        pass

    def kill_at_5(epoch, _row):
        if epoch == 5:
            raise Killed  # the last checkpoint is epoch 4's: both Adam states must come back

    loop_fit = ctgan.fit
    monkeypatch.setattr(ctgan, "fit", lambda *a, **k: loop_fit(*a, on_epoch_end=kill_at_5, **k))
    killed = build(**budget)
    killed.checkpoint_dir = tmp_path
    with pytest.raises(Killed):
        killed.fit(tiny_portfolio)
    monkeypatch.undo()
    resumed = build(**budget)
    resumed.checkpoint_dir = tmp_path
    resumed.fit(tiny_portfolio)
    assert resumed.training_result_.history == full.training_result_.history
    for a, b in zip(full.net_.state_dict().values(), resumed.net_.state_dict().values(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("batch_size", [7, 64, 216])
def test_batches_not_divisible_by_pac_train(tiny_portfolio, batch_size):
    model = build(max_epochs=2, batch_size=batch_size).fit(tiny_portfolio)
    assert len(model.training_result_.history) == 2


def test_native_condition_draws_through_the_conditional_vector(tiny_portfolio):
    model = build(max_epochs=3).fit(tiny_portfolio)
    assert model._native_condition({"heating_energy": "heat_pump"}) is not None
    assert model._native_condition({"financial_ease": None}) is not None  # null is a level
    # Numeric or several conditions go through the base class's rejection sampler.
    assert model._native_condition({"household_size": 3}) is None
    assert model._native_condition({"heating_energy": "gas", "ev": True}) is None
    out = model.sample(30, conditions={"financial_ease": None}, seed=4)
    assert len(out) == 30 and out.customers["financial_ease"].isna().all()
    two = model.sample(20, conditions={"heating_energy": "gas", "ev": True}, seed=4).customers
    assert ((two["heating_energy"] == "gas") & (two["ev"] == True)).all()  # noqa: E712
    pd.testing.assert_frame_equal(
        model.sample(25, conditions={"heating_energy": "gas"}, seed=9).customers,
        model.sample(25, conditions={"heating_energy": "gas"}, seed=9).customers,
    )


def test_bad_hyper_parameters_name_the_key():
    with pytest.raises(ParamsError, match=r"train\.models\.ctgan_variant\.pac"):
        make_model("ctgan_variant", {"pac": 0})
    with pytest.raises(ParamsError, match=r"train\.models\.ctgan_variant\.training.*epochs"):
        make_model("ctgan_variant", {"training": {"epochs": 3}})
