"""The meta-metric: rescaling against holdout and worst case, pillars, geometric mean."""

from __future__ import annotations

import pandas as pd
import pytest

from acacia.errors import ParamsError
from acacia.evaluation.metametric import check_weights, meta_metric, rescale


def table() -> pd.DataFrame:
    base = {"fidelity.shape_mean": 0.98, "detection.lightgbm": 0.9, "series.acf_distance": 0.01,
            "utility.heating.tstr_ratio": 1.0, "privacy.dcr_share": 0.5, "privacy.exact_match_rate": 0.0,
            "privacy.dcr_p5_syn_train": 2.0, "privacy.dcr_p5_holdout_train": 2.0}
    rows = [
        {"model": "holdout", **base},
        {"model": "good", **base, "fidelity.shape_mean": 0.93, "detection.lightgbm": 0.45,
         "series.acf_distance": 0.11, "utility.heating.tstr_ratio": 0.9, "privacy.dcr_share": 0.52},
        # Copies its training rows: perfect fidelity, no privacy.
        {"model": "leaky", **base, "privacy.dcr_share": 1.0, "privacy.exact_match_rate": 0.6,
         "privacy.dcr_p5_syn_train": 0.0},
        {"model": "floor", **base, "fidelity.shape_mean": 0.5, "detection.lightgbm": 0.0,
         "series.acf_distance": 0.6, "utility.heating.tstr_ratio": 0.55, "privacy.dcr_share": 0.45},
    ]
    return pd.DataFrame(rows)


def test_holdout_scores_one_and_metrics_rescale_between_worst_and_reference():
    s = rescale(table())
    assert (s.iloc[0] == 1.0).all()
    good = s.iloc[1]
    assert good["score.fidelity.shape_mean"] == pytest.approx(0.93 / 0.98)
    assert good["score.series.acf_distance"] == pytest.approx((1 - 0.11) / (1 - 0.01))
    assert good["score.utility.heating.tstr_ratio"] == pytest.approx((0.9 - 0.5) / 0.5)
    assert good["score.privacy.dcr_share"] == pytest.approx((1 - 0.52) / 0.5)
    assert s.iloc[2]["score.privacy.exact_match_rate"] == 0.0  # clipped at the worst case
    # DCR share below 0.5 is a departure too (symmetric).
    assert s.iloc[3]["score.privacy.dcr_share"] == pytest.approx(s.iloc[1]["score.privacy.dcr_share"] - 0.06)


def test_a_leaky_generator_cannot_win_on_fidelity():
    t = meta_metric(table()).set_index("model")
    assert t.loc["holdout", "overall"] == pytest.approx(1.0)
    assert t.loc["leaky", "pillar.fidelity"] == pytest.approx(1.0)
    assert t.loc["leaky", "pillar.privacy"] == 0.0 and t.loc["leaky", "overall"] == 0.0
    assert t.loc["good", "overall"] > t.loc["floor", "overall"] > t.loc["leaky", "overall"]
    assert list(meta_metric(table())["rank"]) == [1, 2, 3, 4]


def test_weights_change_the_balance_and_are_validated():
    fid_only = meta_metric(table(), {"series": 0, "utility": 0, "privacy": 0}).set_index("model")
    assert fid_only.loc["leaky", "overall"] == pytest.approx(1.0)
    with pytest.raises(ParamsError, match="unknown pillar 'speed'"):
        check_weights({"speed": 1})
    with pytest.raises(ParamsError, match="compare.weights.privacy"):
        check_weights({"privacy": -1})
    with pytest.raises(ParamsError, match="positive weight"):
        check_weights({p: 0 for p in ("fidelity", "series", "utility", "privacy")})


def test_anonymeter_risks_rescale_between_the_holdout_and_a_risk_of_one():
    risks = ("privacy.singling_out_risk", "privacy.linkability_risk", "privacy.inference_risk")
    t = pd.DataFrame([{"model": "holdout", **dict(zip(risks, (0.02, 0.0, 0.05), strict=True)),
                       "privacy.inference_risk_max": 0.3},
                      {"model": "m", **dict(zip(risks, (0.51, 1.0, 0.01), strict=True)),
                       "privacy.inference_risk_max": 0.9}])
    s = rescale(t).iloc[1]
    assert s["score.privacy.singling_out_risk"] == pytest.approx((1 - 0.51) / (1 - 0.02))
    assert s["score.privacy.linkability_risk"] == 0.0 and s["score.privacy.inference_risk"] == 1.0
    assert "score.privacy.inference_risk_max" not in s  # reported, not scored
