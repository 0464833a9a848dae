"""Reference risks for tests/test_anonymeter.py, computed by anonymeter itself.

anonymeter 1.1.0 pins numpy < 1.27, which conflicts with this project's pins, so it runs in an
environment of its own, by hand, and its output is committed:

    python3.11 -m venv /tmp/anonvenv && /tmp/anonvenv/bin/pip install anonymeter==1.1.0 pyarrow
    cd tests/reference && /tmp/anonvenv/bin/python make_anonymeter_references.py

Writes ``anonymeter_risks.json``: for the fixture triples of :func:`fixture_tables.leaky_triple`
(original, synthetic, control), the counts, risks and intervals of

- singling out, univariate, with ``n_attacks`` above the number of candidate predicates, so the
  predicates are all of them whatever the seed: deterministic;
- singling out, multivariate, for seeds 0-9 (the predicates are random; with a control set
  smaller than 1,000 rows the size correction's subsamples are the whole control set, so a seed
  fixes everything); for both modes, the control successes before the size correction too;
- linkability and inference with every row attacked (``n_attacks`` ≥ the table), so the targets
  are all rows and the nearest-neighbour searches deterministic. Their baselines (random
  guessers, not part of the risk) are recorded, not compared: linkability's draws from an
  unseeded generator inside anonymeter, so its ``n_baseline`` changes from run to run.

Inputs as anonymeter is given them: the date column as float days since 1970-01-01 (anonymeter
would treat a datetime column as labels; ours are ordered numbers), numbers and integers with
``regression=True`` (the 5 % relative tolerance), labels and the date with ``regression=False``.
"""

from __future__ import annotations

import json
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
from anonymeter.evaluators import (
    InferenceEvaluator,
    LinkabilityEvaluator,
    SinglingOutEvaluator,
    singling_out_evaluator,
)
from fixture_tables import KINDS, leaky_triple

CASES = {  # name: (leak share, control rows)
    "leaky": (0.5, 400),
    "fresh": (0.0, 400),
    "small_control": (0.5, 300),
    "fresh_small_control": (0.0, 300),
}
AUX = (["heating_energy", "surface_m2", "contract_start_date"], ["household_size", "ev", "annual_kwh"])
UNIVARIATE_ATTACKS = 2000
MULTIVARIATE_ATTACKS = 200
SEEDS = range(10)


def as_anonymeter_sees_it(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c, kind in KINDS.items():
        if kind == "date":
            out[c] = (out[c] - pd.Timestamp(0)) / pd.Timedelta(days=1)
    return out


# SinglingOutEvaluator.evaluate() counts the successes of its predicates on the training rows, of
# the baseline's on the training rows, then of its predicates on the control rows, and keeps only
# the control count after its size correction: recording the calls gives the count before.
COUNTS: list[tuple[int, int]] = []  # (predicates, successes) per call
_count_successes = singling_out_evaluator._evaluate_queries_and_return_successful


def _recording(df, queries):
    successful = _count_successes(df=df, queries=queries)
    COUNTS.append((len(queries), len(successful)))
    return successful


singling_out_evaluator._evaluate_queries_and_return_successful = _recording


def summary(results, risk) -> dict:
    return {"n_success": float(results.n_success), "n_control": float(results.n_control),
            "n_baseline": float(results.n_baseline), "risk": risk.value, "ci": list(risk.ci),
            "main_rate": results.attack_rate.value, "control_rate": results.control_rate.value}


def singling_out(ori, syn, control, mode, n_attacks, seed) -> dict:
    ev = SinglingOutEvaluator(ori=ori, syn=syn, control=control, n_attacks=n_attacks, n_cols=3, seed=seed)
    ev.evaluate(mode=mode)
    (n_queries, _), _, (_, n_control_raw) = COUNTS[-3:]
    return {**summary(ev.results(), ev.risk()), "n_queries": n_queries, "n_control_raw": n_control_raw,
            "n_ori_unique": len(ev._ori), "n_control_unique": len(ev._control)}


def case(leak: float, n_control: int) -> dict:
    ori, syn, control = (as_anonymeter_sees_it(t) for t in leaky_triple(leak=leak, n_control=n_control))
    out: dict = {"univariate": singling_out(ori, syn, control, "univariate", UNIVARIATE_ATTACKS, 0)}
    out["multivariate"] = [singling_out(ori, syn, control, "multivariate", MULTIVARIATE_ATTACKS, s) for s in SEEDS]
    if len(control) == len(ori):  # anonymeter attacks as many control rows as training rows
        ev = LinkabilityEvaluator(ori=ori, syn=syn, control=control, aux_cols=AUX, n_attacks=len(ori), n_neighbors=3)
        ev.evaluate(n_jobs=1)
        out["linkability"] = {f"k{k}": summary(ev.results(n_neighbors=k), ev.risk(n_neighbors=k)) for k in (1, 3)}
    out["inference"] = {}
    for secret, kind in KINDS.items():
        ev = InferenceEvaluator(ori=ori, syn=syn, control=control, secret=secret, n_attacks=10**6,
                                aux_cols=[c for c in KINDS if c != secret],
                                regression=kind in ("numerical", "integer"))
        ev.evaluate(n_jobs=1)
        out["inference"][secret] = summary(ev.results(), ev.risk())
    return out


if __name__ == "__main__":
    warnings.simplefilter("ignore")  # "attack as good or worse than baseline" on the fresh case
    np.random.seed(0)  # pandas' sample(): the inference baseline's synthetic rows
    out = {"anonymeter_version": version("anonymeter"), "aux": AUX, "univariate_attacks": UNIVARIATE_ATTACKS,
           "multivariate_attacks": MULTIVARIATE_ATTACKS,
           **{name: {"leak": leak, "n_control": n, **case(leak, n)} for name, (leak, n) in CASES.items()}}
    Path(__file__).with_name("anonymeter_risks.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    for name in CASES:
        multi = np.mean([r["risk"] for r in out[name]["multivariate"]])
        print(name, "univariate", round(out[name]["univariate"]["risk"], 4), "multivariate mean", round(multi, 4))
