"""The representation ceiling of the studies: the real holdout with its series encoded and decoded
by the models' series representation (usecases/ceiling.py)."""

from __future__ import annotations

import numpy as np

from acacia.usecases.ceiling import ceiling_portfolio, ceilings, representations
from conftest import make_tiny_portfolio


def test_one_ceiling_per_decoded_representation_the_models_use():
    models = {
        "a": {"series_representation": "compressed"},
        "b": {"seed": 1, "series_representation": "compressed"},
        "c": {"series_representation": {"name": "compressed", "n_components": 4}},
        "d": {"series_representation": "flat"},  # exact: nothing to lose
        "e": {"series_representation": "two_stage"},  # a generator of its own, not a decoder
        "f": {},
        "g": None,
    }
    assert representations(models) == {"ceiling": "compressed",
                                        "ceiling_compressed_4": {"name": "compressed", "n_components": 4}}
    assert representations({"f": {}}) == {}


def test_the_ceiling_is_the_holdout_round_tripped_and_the_same_at_every_run():
    portfolio = make_tiny_portfolio(n=400, n_periods=26)
    ids = portfolio.customers["customer_id"]
    train, holdout = portfolio.subset(ids[::2]), portfolio.subset(ids[1::2])
    ceiling = ceiling_portfolio(train, holdout, "compressed")
    assert ceiling.customers.equals(holdout.customers)
    real, decoded = holdout.series_matrix(), ceiling.series_matrix()
    assert np.array_equal(np.isnan(real), np.isnan(decoded))  # the read window is kept
    ratio = np.nanmean(decoded, axis=1) / np.nanmean(real, axis=1)
    assert np.nanmedian(np.abs(ratio - 1)) < 0.1  # each customer's level comes back
    assert not np.allclose(np.nan_to_num(real), np.nan_to_num(decoded))  # but not the curve itself
    again = ceiling_portfolio(train, holdout, "compressed").series_matrix()
    assert np.array_equal(np.nan_to_num(decoded, nan=-1), np.nan_to_num(again, nan=-1))
    assert ceiling_portfolio(train, holdout, "flat") is holdout
    assert set(ceilings(train, holdout, {"m": {"series_representation": "compressed"}})) == {"ceiling"}
