"""Our Anonymeter attacks against anonymeter 1.1.0 on the same tables.

Reference values come from anonymeter itself (``tests/reference/make_anonymeter_references.py``,
run in an environment of its own: it pins numpy < 1.27) on :func:`fixture_tables.leaky_triple`:
400 training rows; 400 synthetic rows, half of them copies of training rows ("leaky", "small_
control") or none ("fresh", "fresh_small_control"); 400 control rows, or 300 ("small_control").

Tolerances:
- same counts → same Wilson rates, risk and interval: 1e-12 (same formulas);
- univariate singling out (every candidate predicate used, so nothing is random), linkability
  with 1 and 3 neighbours and inference of each column (every row attacked: the nearest-neighbour
  searches are deterministic): the success counts are *equal* and the risks within 1e-12;
- multivariate singling out: the predicates are random draws from different generators, so the
  mean risk over seeds 0-9 must agree within half the mean 95 % CI half-width of one run, about
  2.2 standard errors of the difference of two 10-seed means (one run's risk spreads by about
  half its half-width), and the main and control success rates within half theirs;
- a control smaller than the training rows: we do not follow anonymeter's size correction (see
  :mod:`acacia.evaluation.anonymeter.singling_out`): the tests show its factor is the
  (n_control + 1) / (n_train + 1) of a fit stuck on its bound and gives data without any leak a
  positive risk, while ours stays at 0.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from acacia.errors import DataError, ParamsError
from acacia.evaluation.anonymeter import (
    AttackData,
    anonymeter_config,
    inference_risks,
    linkability_risk,
    risk_from_counts,
    singling_out_risk,
)
from acacia.evaluation.anonymeter.inference import correct_guesses
from acacia.evaluation.anonymeter.singling_out import (
    GE,
    NE,
    Predicates,
    match_counts,
    univariate_predicates,
)
from acacia.evaluation.anonymeter.table import column_distance, scaled, unique_rows

sys.path.insert(0, str(Path(__file__).with_name("reference")))
from fixture_tables import KINDS, leaky_triple  # noqa: E402

REFERENCE = json.loads((Path(__file__).with_name("reference") / "anonymeter_risks.json").read_text())
CASES = ("leaky", "fresh", "small_control", "fresh_small_control")
EQUAL_SIZES = ("leaky", "fresh")
EXACT = 1e-12


def data(case: str) -> AttackData:
    ref = REFERENCE[case]
    return AttackData.from_frames(*leaky_triple(leak=ref["leak"], n_control=ref["n_control"]), KINDS)


def assert_same(ours, ref: dict) -> None:
    assert (ours.main_success, ours.control_success) == (ref["n_success"], ref["n_control"])
    assert ours.risk == pytest.approx(ref["risk"], abs=EXACT)
    assert (ours.ci_low, ours.ci_high) == pytest.approx(tuple(ref["ci"]), abs=EXACT)


def test_risk_and_interval_from_counts_equal_anonymeters():
    n_univariate = REFERENCE["univariate_attacks"]
    for case in CASES:
        counted = [(REFERENCE[case]["univariate"], n_univariate, n_univariate)]
        # Inference attacks every row: 400 training rows, all the control rows.
        counted += [(ref, 400, REFERENCE[case]["n_control"]) for ref in REFERENCE[case]["inference"].values()]
        for ref, n, n_control in counted:
            r = risk_from_counts(n, ref["n_success"], n_control, ref["n_control"], n, ref["n_baseline"])
            assert r.risk == pytest.approx(ref["risk"], abs=EXACT)
            assert (r.ci_low, r.ci_high) == pytest.approx(tuple(ref["ci"]), abs=EXACT)
            assert (r.main_rate, r.control_rate) == pytest.approx((ref["main_rate"], ref["control_rate"]), abs=EXACT)


@pytest.mark.parametrize("case", EQUAL_SIZES)
def test_univariate_singling_out_equals_anonymeter(case):
    ref = REFERENCE[case]["univariate"]
    d = data(case)
    ours = singling_out_risk(d, "univariate", n_attacks=REFERENCE["univariate_attacks"])
    assert len(univariate_predicates(unique_rows(d.syn), d.numeric, 10**6, np.random.default_rng(0))) == ref["n_queries"]
    assert_same(ours, ref)


@pytest.mark.parametrize("case", EQUAL_SIZES)
def test_multivariate_singling_out_agrees_with_anonymeter_within_the_ci(case):
    refs = REFERENCE[case]["multivariate"]
    n = REFERENCE["multivariate_attacks"]
    ours = [singling_out_risk(data(case), "multivariate", n_attacks=n, n_cols=3, seed=s) for s in range(10)]
    half_width = np.mean([(r.ci_high - r.ci_low) / 2 for r in ours])
    assert abs(np.mean([r.risk for r in ours]) - np.mean([r["risk"] for r in refs])) < half_width / 2
    for mine, theirs in (("main_success", "n_success"), ("control_success", "n_control")):
        rate = np.mean([getattr(r, mine) for r in ours]) / n
        rate_ref = np.mean([r[theirs] for r in refs]) / n
        assert abs(rate - rate_ref) < 1.96 * np.sqrt(rate_ref * (1 - rate_ref) / n) / 2, mine


@pytest.mark.parametrize("case", EQUAL_SIZES)
def test_linkability_equals_anonymeter(case):
    for k in (1, 3):
        ours = linkability_risk(data(case), REFERENCE["aux"], n_attacks=10**6, n_neighbors=k)
        assert_same(ours, REFERENCE[case]["linkability"][f"k{k}"])


@pytest.mark.parametrize("case", CASES)
def test_inference_equals_anonymeter(case):
    ours = inference_risks(data(case), n_attacks=10**6)
    assert set(ours) == set(REFERENCE[case]["inference"])
    for secret, ref in REFERENCE[case]["inference"].items():
        assert_same(ours[secret], ref)


def test_a_smaller_control_set_is_not_rescaled_as_anonymeter_does():
    for case in ("small_control", "fresh_small_control"):
        ref = REFERENCE[case]["univariate"]
        # Same predicates (all of them), same successes on the whole control set...
        d = data(case)
        queries = univariate_predicates(unique_rows(d.syn), d.numeric, 10**6, np.random.default_rng(0))
        assert (match_counts(unique_rows(d.control), queries) == 1).sum() == ref["n_control_raw"]
        # ...which anonymeter multiplies by (n_control + 1) / (n_train + 1): its fit on the bound.
        stuck = (ref["n_control_unique"] + 1) / (ref["n_ori_unique"] + 1)
        assert ref["n_control"] == pytest.approx(ref["n_control_raw"] * stuck, rel=1e-9)
    # Without any leak, the shrunken count makes a risk out of a smaller control set (the head of
    # the "fresh" one); cutting the training rows to the control's size does not.
    fresh, small = REFERENCE["fresh"], REFERENCE["fresh_small_control"]
    assert small["univariate"]["ci"][0] > 0 == fresh["univariate"]["ci"][0]
    anonymeters = [np.mean([r["risk"] for r in ref["multivariate"]]) for ref in (fresh, small)]
    assert anonymeters[1] > 5 * anonymeters[0]
    d = data("fresh_small_control")
    assert singling_out_risk(d, "univariate", n_attacks=REFERENCE["univariate_attacks"]).ci_low == 0
    ours = np.mean([singling_out_risk(d, n_attacks=REFERENCE["multivariate_attacks"], seed=s).risk for s in range(10)])
    assert ours < anonymeters[1] / 3 and ours < 0.03


def test_nulls_are_one_more_level_for_distances_and_never_match_a_comparison():
    numbers = scaled(np.array([[np.nan], [0.2]]), np.array([[np.nan], [0.5], [1.2]]), np.array([True]))
    assert column_distance(numbers[0][:, 0], numbers[1][:, 0], numeric=True) == pytest.approx(
        np.array([[0.0, 1.0, 1.0], [1.0, 0.3, 1.0]]))
    codes = scaled(np.array([[np.nan], [0.0]]), np.array([[np.nan], [1.0]]), np.array([False]))
    assert column_distance(codes[0][:, 0], codes[1][:, 0], numeric=False).tolist() == [[0, 1], [1, 1]]
    x = np.array([[1.0], [np.nan], [3.0]])
    p = Predicates(np.zeros((2, 1), int), np.array([[NE], [GE]]), np.array([[1.0], [2.0]]))
    assert list(match_counts(x, p)) == [1, 1]  # a null is neither ≠ 1 nor ≥ 2, as in polars


def test_numeric_guesses_are_correct_within_a_symmetric_relative_tolerance():
    guesses = np.array([[100.0, -1.0, 2.0, np.nan]])
    secrets = np.array([[104.0, 5.0, 2.0, np.nan]])
    ok = correct_guesses(guesses, secrets, np.array([True, True, False, False]), 0.05)
    # anonymeter divides by the signed guess: -1 for 5 would count as correct there.
    assert ok.tolist() == [[True, False, True, True]]


def test_same_seed_same_risks_and_the_leak_is_seen():
    d = data("leaky")
    first = singling_out_risk(d, seed=3), linkability_risk(d, REFERENCE["aux"], seed=3), inference_risks(d, seed=3)
    again = singling_out_risk(d, seed=3), linkability_risk(d, REFERENCE["aux"], seed=3), inference_risks(d, seed=3)
    assert first == again
    assert first[0].ci_low > 0.2 and first[1].ci_low > 0.4 and min(r.ci_low for r in first[2].values()) > 0.3


def test_errors_name_the_parameter():
    d = data("fresh")
    with pytest.raises(ValueError, match="mode"):
        singling_out_risk(d, mode="bivariate")
    with pytest.raises(ValueError, match="n_cols"):
        singling_out_risk(d, n_cols=7)
    with pytest.raises(DataError, match=r"aux\[1\].*'kwh'"):
        linkability_risk(d, (["ev"], ["kwh"]))
    with pytest.raises(ValueError, match="aux: no auxiliary column left.*'ev'"):
        inference_risks(d, secrets=["ev"], aux=["ev"])
    with pytest.raises(ParamsError, match=r"evaluate\.anonymeter\.n_attacks"):
        anonymeter_config({"n_attacks": 0})
    with pytest.raises(ParamsError, match="unknown key"):
        anonymeter_config({"n_attack": 10})
