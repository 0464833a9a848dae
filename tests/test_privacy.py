"""Privacy attacks: a generator that copies its training rows must be flagged by every one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from acacia.data.portfolio import Portfolio
from acacia.data.splits import split_portfolio
from acacia.evaluation.evaluate import evaluate
from acacia.evaluation.metametric import meta_metric
from acacia.models import make_model
from conftest import make_tiny_portfolio

CFG = {"max_rows": 400, "detection_folds": 3, "lightgbm": {"n_estimators": 20}}


def _leaky_copy(p: Portfolio) -> Portfolio:
    """The "leaky" test generator: its synthetic customers are its training customers."""
    idc = p.schema.id_column
    ids = p.customers[idc]
    new = pd.Series([f"L{i:07d}" for i in range(len(ids))], dtype=str)
    mapping = dict(zip(ids, new, strict=True))
    customers = p.customers.assign(**{idc: new})
    consumption = p.consumption.assign(**{idc: p.consumption[idc].map(mapping).astype(str)})
    return Portfolio(customers, consumption, p.schema)


@pytest.fixture(scope="module")
def scored():
    p = make_tiny_portfolio(n=1500, seed=7)
    s = split_portfolio(p, {"train": 0.4, "holdout": 0.4, "test": 0.2}, seed=0)
    copula = make_model("gaussian_copula", {"seed": 0}).fit(s["train"]).sample(len(s["train"]), seed=1)
    independent = make_model("independent", {"seed": 0}).fit(s["train"]).sample(len(s["train"]), seed=1)
    rows = []
    for name, syn, is_holdout in (("holdout", s["holdout"], True), ("gaussian_copula", copula, False),
                                  ("independent", independent, False), ("leaky", _leaky_copy(s["train"]), False)):
        m, _ = evaluate(s["train"], s["holdout"], s["test"], syn, CFG, synthetic_is_holdout=is_holdout)
        rows.append({"model": name, **m})
    return pd.DataFrame(rows).set_index("model")


def test_every_attack_flags_the_leaky_generator(scored):
    leaky, fair = scored.loc["leaky"], scored.loc["gaussian_copula"]
    assert leaky["privacy.dcr_share"] > 0.95 and fair["privacy.dcr_share"] < 0.7
    assert leaky["privacy.exact_match_rate"] > 0.95 and fair["privacy.exact_match_rate"] < 0.05
    assert leaky["privacy.dcr_p5_syn_train"] < 1e-6 < leaky["privacy.dcr_p5_holdout_train"]
    assert leaky["privacy.nndr_p5_syn_train"] < 0.05 < fair["privacy.nndr_p5_syn_train"]
    assert leaky["privacy.mia_distance_auc"] > 0.95 and abs(fair["privacy.mia_distance_auc"] - 0.5) < 0.15
    assert leaky["privacy.mia_density_auc"] > 0.8 and abs(fair["privacy.mia_density_auc"] - 0.5) < 0.15


def test_anonymeter_risks_flag_the_leaky_generator_only(scored):
    """The lower end of each risk's 95 % interval is high for the copy; fresh generators and real
    unseen customers stay near 0 (these attacks have no threshold: 0 is the control's level)."""
    leaky = scored.loc["leaky"]
    for attack in ("singling_out", "singling_out_univariate", "linkability", "inference"):
        assert leaky[f"privacy.{attack}_ci_low"] > 0.8, attack
    for model in ("gaussian_copula", "independent", "holdout"):
        for attack in ("singling_out", "linkability", "inference"):
            risk, low = scored.loc[model, f"privacy.{attack}_risk"], scored.loc[model, f"privacy.{attack}_ci_low"]
            assert risk < 0.1 and low < 0.05, (model, attack)
    # Drawing each column from its training values repeats values a single customer has (a rare
    # surface, a contract date): one-condition predicates single these customers out.
    independent, copula = scored.loc["independent"], scored.loc["gaussian_copula"]
    assert independent["privacy.singling_out_univariate_ci_low"] > 0.05 > copula["privacy.singling_out_univariate_risk"]


def test_the_meta_metric_zeroes_the_leaky_generator(scored):
    t = meta_metric(scored.reset_index()).set_index("model")
    assert t.loc["holdout", "pillar.privacy"] == pytest.approx(1.0)
    assert t.loc["leaky", "pillar.privacy"] < 0.1
    assert t.loc["leaky", "overall"] < t.loc["gaussian_copula", "overall"]
    assert t.loc["gaussian_copula", "pillar.privacy"] > 0.7
    assert np.isfinite(t["overall"]).all()


def test_the_privacy_verdict_flags_the_leaky_generator_by_every_attack(scored):
    from acacia.evaluation.verdict import privacy_flags, privacy_verdicts

    flags = privacy_flags(scored.reset_index()).set_index("model")
    assert flags.loc["leaky"].tolist() == [True] * flags.shape[1]  # every attack ran and flags it
    for model in ("holdout", "gaussian_copula"):
        assert not any(v is True for v in flags.loc[model]), (model, flags.loc[model].to_dict())
    verdicts = privacy_verdicts(scored.reset_index()).set_index("model")["privacy.verdict"]
    assert verdicts["leaky"].startswith(f"LEAK: flagged by {flags.shape[1]}/{flags.shape[1]}")
    assert verdicts["gaussian_copula"].startswith("no leak detected")
