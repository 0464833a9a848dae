"""Spread of the meta-metric over seeds, and whether the ranking changes, on a hand-made table."""

from __future__ import annotations

import pandas as pd
import pytest

from acacia.errors import DataError
from acacia.evaluation.stability import ranking_changes, ranks_per_seed, seed_spread


def table() -> pd.DataFrame:
    rows = []
    for seed, (a, b, c) in enumerate([(0.90, 0.60, 0.30), (0.80, 0.70, 0.20), (0.85, 0.50, 0.55)]):
        rows += [{"seed": seed, "model": "a", "overall": a, "pillar.privacy": 1.0},
                 {"seed": seed, "model": "b", "overall": b, "pillar.privacy": 0.9 + 0.01 * seed},
                 {"seed": seed, "model": "c", "overall": c, "pillar.privacy": 0.5}]
    return pd.DataFrame(rows)


def test_spread_by_hand():
    s = seed_spread(table(), ["overall", "pillar.privacy"]).set_index("model")
    assert list(s.index) == ["a", "b", "c"]  # by mean overall
    assert s.loc["a", "overall.mean"] == pytest.approx(0.85)
    assert s.loc["a", "overall.std"] == pytest.approx(0.05)  # sample std of 0.90, 0.80, 0.85
    assert s.loc["c", "overall.range"] == pytest.approx(0.35)
    assert s.loc["b", "pillar.privacy.min"] == pytest.approx(0.9) and s.loc["b", "pillar.privacy.max"] == pytest.approx(0.92)
    assert (s["n_seeds"] == 3).all() and s.loc["a", "pillar.privacy.std"] == 0.0


def test_ranking_changes_are_seen():
    ranks = ranks_per_seed(table())
    assert ranks.loc["c"].tolist() == [3, 3, 2]
    r = ranking_changes(table())
    assert r["mean_order"] == ["a", "b", "c"] and r["changes"] is True
    assert r["orders"][2] == ["a", "c", "b"]
    assert r["min_kendall_tau"] == pytest.approx(1 / 3)  # one discordant pair of three
    assert r["rank_range"] == {"a": 0, "b": 1, "c": 1}
    stable = ranking_changes(table().query("seed < 2"))
    assert stable["changes"] is False and stable["min_kendall_tau"] == 1.0


def test_bad_tables_are_named():
    with pytest.raises(DataError, match=r"missing columns \['pillar.series'\]"):
        seed_spread(table(), ["overall", "pillar.series"])
    with pytest.raises(DataError, match=r"more than one row for \(seed, model\) = \(0, 'a'\)"):
        seed_spread(pd.concat([table(), table().iloc[:1]]))
