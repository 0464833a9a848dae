"""Plot tables of the per-model pictures, and the privacy verdict's rules, on hand-made data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from acacia.errors import ParamsError
from acacia.evaluation.fidelity import column_pair_trends
from acacia.evaluation.plot_data import OTHER_LEVELS, marginal_table, pair_table, projection_table
from acacia.evaluation.verdict import privacy_flags, privacy_verdicts

KINDS = {"x": "numerical", "c": "categorical", "d": "date"}


def frame(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(shift, 1.0, n)
    x[:5] = np.nan
    c = rng.choice(list("abcdefghijklmnop"), n, p=np.r_[[0.3, 0.2], np.full(14, 0.5 / 14)])
    d = pd.Timestamp("2010-01-01") + pd.to_timedelta(rng.integers(0, 3000, n), unit="D")
    return pd.DataFrame({"x": x + (c == "a"), "c": c, "d": d})


def test_marginal_shares_sum_to_one_and_pool_rare_levels():
    real, syn = frame(500, 0), frame(400, 1)
    syn.loc[:9, "c"] = "zz"  # a level only the generator invents
    t = marginal_table(real, syn, KINDS, bins=20, max_levels=5)
    for (_col, side), total in t.melt(["column"], ["real", "synthetic"]).groupby(["column", "variable"])["value"].sum().items():
        assert total == pytest.approx(1.0), (_col, side)
    c = t[t["column"] == "c"]
    assert list(c["label"][:2]) == ["a", "b"] and c["label"].iloc[-1] == OTHER_LEVELS and len(c) == 6
    assert c["synthetic"].iloc[-1] >= 10 / 400  # the invented level is in the pooled bar
    x = t[t["column"] == "x"]
    assert len(x) == 20 and (x["x_high"] > x["x_low"]).all()
    # Same data, same picture; a shifted copy moves mass to the right.
    same = marginal_table(real, real, KINDS)
    assert np.allclose(same["real"], same["synthetic"])
    shifted = marginal_table(real, real.assign(x=real["x"] + 2), {"x": "numerical"})
    centre = (shifted["x_low"] + shifted["x_high"]) / 2
    assert (centre * shifted["synthetic"]).sum() > (centre * shifted["real"]).sum() + 1.5


def test_pair_table_is_one_minus_the_trend_scores():
    real, syn = frame(300, 0), frame(300, 1)
    trends = column_pair_trends(real, syn, KINDS)
    t = pair_table(trends)
    assert list(t["pair"]) == list(trends) and t[["column_a", "column_b"]].values.tolist()[0] == ["x", "c"]
    assert t["difference"].mean() == pytest.approx(1 - np.mean(list(trends.values())))


def test_projection_uses_the_real_axes_and_shows_a_shift():
    real = frame(400, 0)
    same = projection_table(real, real, KINDS, seed=0)
    r, s = same[same["source"] == "real"], same[same["source"] == "synthetic"]
    assert np.allclose(r[["pc1", "pc2"]].to_numpy(), s[["pc1", "pc2"]].to_numpy())
    assert abs(r["pc1"].mean()) < 1e-3 and 0 < sum(same.attrs["explained"]) <= 1
    far = projection_table(real, real.assign(x=real["x"] + 5), KINDS, seed=0)
    gap = far.groupby("source")[["pc1", "pc2"]].mean().diff().iloc[1].abs().max()
    assert gap > 1.0
    capped = projection_table(real, real, KINDS, seed=0, max_rows=50)
    assert (capped["source"].value_counts() == 50).all()


def test_verdict_rules_read_the_unseen_side_and_name_what_is_missing():
    base = {"privacy.dcr_share": 0.5, "privacy.exact_match_rate": 0.02, "privacy.exact_match_rate_holdout": 0.015,
            "privacy.dcr_p5_syn_train": 1.0, "privacy.dcr_p5_holdout_train": 1.1,
            "privacy.nndr_p5_syn_train": 0.5, "privacy.nndr_p5_holdout_train": 0.5,
            "privacy.mia_distance_auc": 0.52, "privacy.mia_density_auc": 0.49,
            "privacy.singling_out_ci_low": 0.0, "privacy.singling_out_univariate_ci_low": 0.01,
            "privacy.linkability_ci_low": -0.02, "privacy.inference_ci_low": 0.0}
    close = {**base, "model": "close", "privacy.dcr_p5_syn_train": 0.4, "privacy.linkability_ci_low": 0.2}
    table = pd.DataFrame([{**base, "model": "fair"}, close, {"model": "unknown", "privacy.dcr_share": 0.55}])
    flags = privacy_flags(table).set_index("model")
    # Real duplicates (1.5 % in the holdout) do not make 2 % of exact copies a leak.
    assert not flags.loc["fair"].astype(bool).any()
    assert flags.loc["close"][lambda f: f.astype(bool)].index.tolist() == ["DCR 5th percentile", "Anonymeter linkability"]
    v = privacy_verdicts(table).set_index("model")
    assert v.loc["close", "privacy.verdict"].startswith("LEAK: flagged by 2/10")
    assert v.loc["unknown", "privacy.attacks_run"] == 1.0  # missing metrics are not counted as passed
    assert v.loc["unknown", "privacy.verdict"] == "no leak detected by 1 attacks"
    strict = privacy_verdicts(table, {"dcr_share": 0.54}).set_index("model")
    assert strict.loc["unknown", "privacy.flags"] == 1.0
    with pytest.raises(ParamsError, match="compare.privacy_thresholds: unknown key 'dcr'"):
        privacy_flags(table, {"dcr": 0.5})
    with pytest.raises(ParamsError, match="compare.privacy_thresholds.mia_auc"):
        privacy_flags(table, {"mia_auc": "high"})
