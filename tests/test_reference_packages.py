"""Our Shape and Trend against sdmetrics' QualityReport on the same tables.

The reference values come from sdmetrics itself (``tests/reference/make_references.py``, run in
an environment of its own: sdmetrics pins pandas < 3). Where our null handling differs from
sdmetrics' by design (see :mod:`acacia.evaluation.fidelity`), the test says so and checks the
difference is the documented one, not an accident.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from acacia.evaluation.fidelity import column_pair_trends, column_shapes, tv_complement

sys.path.insert(0, str(Path(__file__).with_name("reference")))
from fixture_tables import KINDS, pair  # noqa: E402

REFERENCE = json.loads((Path(__file__).with_name("reference") / "sdmetrics_quality.json").read_text())
TOL = 1e-9  # same formulas on the same rows: equal up to float rounding


def test_shapes_equal_sdmetrics_without_nulls():
    real, syn = pair(with_nulls=False)
    ours = column_shapes(real, syn, KINDS)
    ref = REFERENCE["no_nulls"]["shapes"]
    assert set(ours) == set(ref)
    for col in ref:
        assert ours[col] == pytest.approx(ref[col], abs=TOL), col


def test_trends_equal_sdmetrics_without_nulls():
    real, syn = pair(with_nulls=False)
    ours = column_pair_trends(real, syn, KINDS)
    ref = REFERENCE["no_nulls"]["trends"]
    assert set(ours) == set(ref)
    for p in ref:
        assert ours[p] == pytest.approx(ref[p], abs=TOL), (p, REFERENCE["no_nulls"]["metric"][p])


def test_with_nulls_only_the_documented_difference():
    """With nulls, every pair trend still equals sdmetrics'. Shapes differ only on categorical
    columns with nulls: sdmetrics' TVComplement ignores null rows, ours counts null as a level
    (a generator that drops or invents nulls must lose shape); on the non-null rows they agree."""
    real, syn = pair(with_nulls=True)
    ref = REFERENCE["with_nulls"]
    trends = column_pair_trends(real, syn, KINDS)
    for p in ref["trends"]:
        assert trends[p] == pytest.approx(ref["trends"][p], abs=TOL), p
    shapes = column_shapes(real, syn, KINDS)
    for col, value in ref["shapes"].items():
        if KINDS[col] in ("categorical", "boolean") and real[col].isna().any():
            assert shapes[col] != pytest.approx(value, abs=1e-6)
            assert tv_complement(real[col].dropna(), syn[col].dropna()) == pytest.approx(value, abs=TOL)
        else:
            assert shapes[col] == pytest.approx(value, abs=TOL), col
