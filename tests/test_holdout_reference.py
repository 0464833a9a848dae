"""The holdout reference shares no real customer: its saved model and its sample are DVC outputs
with ``remote: shared``, so they hold the split's size and the drawn rows' positions only."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from acacia.data.portfolio import REFERENCE_FILE, Portfolio, save_reference
from acacia.errors import DataError
from acacia.models import make_model


def test_saved_model_and_sample_hold_no_customer(tiny_portfolio, tmp_path):
    split = tmp_path / "processed" / "holdout"
    tiny_portfolio.save(split)
    model = make_model("holdout", {"seed": 0}).fit(tiny_portfolio)
    model.save(tmp_path / "model")
    saved = b"".join(f.read_bytes() for f in (tmp_path / "model").rglob("*") if f.is_file())
    ids = tiny_portfolio.ids.astype(str)
    assert not any(i.encode() in saved for i in ids[:50])
    assert not (tmp_path / "model" / "frames").exists()

    rows = model.reference_rows(30, seed=4)
    save_reference(tmp_path / "sample", split, rows)
    assert [f.name for f in (tmp_path / "sample").iterdir()] == [REFERENCE_FILE]
    assert not any(i.encode() in (tmp_path / "sample" / REFERENCE_FILE).read_bytes() for i in ids)

    # read back: the split's rows in the drawn order, with a sample's ids, as the model draws them
    drawn = model.sample(30, seed=4)
    for as_matrix in (False, True):
        back = Portfolio.load(tmp_path / "sample", as_matrix=as_matrix)
        assert list(back.ids) == list(drawn.ids)
        np.testing.assert_array_equal(back.series_matrix(), tiny_portfolio.series_matrix()[rows])
        np.testing.assert_array_equal(back.series_matrix(), drawn.series_matrix())
        expected = tiny_portfolio.customers.iloc[rows].drop(columns=tiny_portfolio.schema.id_column)
        got = back.customers.drop(columns=tiny_portfolio.schema.id_column)
        pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True))


def test_a_reference_without_its_split_is_a_clear_error(tiny_portfolio, tmp_path):
    split = tmp_path / "processed" / "holdout"
    save_reference(tmp_path / "sample", split, np.arange(5))
    with pytest.raises(DataError, match="not on this machine"):
        Portfolio.load(tmp_path / "sample")
    tiny_portfolio.save(split)
    save_reference(tmp_path / "sample", split, np.array([0, len(tiny_portfolio)]))
    with pytest.raises(DataError, match="outside"):
        Portfolio.load(tmp_path / "sample")
    (tmp_path / "sample" / REFERENCE_FILE).write_text(json.dumps({"rows": [1]}))
    with pytest.raises(DataError, match="expected"):
        Portfolio.load(tmp_path / "sample")
