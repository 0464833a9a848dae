"""Reference values for tests/test_reference_packages.py, computed by the packages themselves.

sdmetrics pins pandas < 3 and anonymeter numpy < 1.27, which conflict with this project's pins,
so they run in an environment of their own, by hand, and their output is committed:

    python3.11 -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install sdmetrics==0.32.0 pyarrow
    cd tests/reference && /tmp/refvenv/bin/python make_references.py

Writes ``sdmetrics_quality.json``: per fixture (with / without nulls), the score of every column
and column pair by the metric sdmetrics' QualityReport assigns it (KSComplement / TVComplement;
CorrelationSimilarity for numeric pairs, ContingencySimilarity with 10 equal-width bins
otherwise), called directly: since 0.2x the report itself leaves out (NaN) the pairs whose real
association is weak, which says nothing about the formula.
"""

from __future__ import annotations

import itertools
import json
from importlib.metadata import version
from pathlib import Path

from fixture_tables import KINDS, pair
from sdmetrics.column_pairs import ContingencySimilarity, CorrelationSimilarity
from sdmetrics.single_column import KSComplement, TVComplement

NUMERIC = ("numerical", "integer", "date")


def quality(with_nulls: bool) -> dict:
    real, syn = pair(with_nulls)
    shapes, trends, metric = {}, {}, {}
    for c, k in KINDS.items():
        m = KSComplement if k in NUMERIC else TVComplement
        shapes[c], metric[c] = float(m.compute(real[c], syn[c])), m.__name__
    for a, b in itertools.combinations(KINDS, 2):
        if KINDS[a] in NUMERIC and KINDS[b] in NUMERIC:
            m, kw = CorrelationSimilarity, {}
        else:
            m, kw = ContingencySimilarity, {"continuous_column_names": [c for c in (a, b) if KINDS[c] in NUMERIC]}
        # The report hands pair metrics dates as numbers (nanoseconds): equal-width bins and
        # Pearson ρ are unchanged by that linear rescaling.
        r, s = (t[[a, b]].apply(lambda x: x.astype("int64") if KINDS[x.name] == "date" else x) for t in (real, syn))
        trends[f"{a}|{b}"] = float(m.compute(r, s, **kw))
        metric[f"{a}|{b}"] = m.__name__
    return {"shapes": shapes, "trends": trends, "metric": metric}


if __name__ == "__main__":
    out = {"sdmetrics_version": version("sdmetrics"),
           "no_nulls": quality(False), "with_nulls": quality(True)}
    Path(__file__).with_name("sdmetrics_quality.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(json.dumps({k: (v["shapes"] if isinstance(v, dict) else v) for k, v in out.items()}, indent=1))
