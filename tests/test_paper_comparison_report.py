"""The Adult comparison's records and variants (benchmarks/paper_comparison.py; nothing is fitted)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "paper_comparison.py"
_spec = importlib.util.spec_from_file_location("paper_comparison", _PATH)
paper = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(paper)


def test_a_labelled_run_is_a_row_of_its_own_that_names_what_differs(tmp_path):
    plain = {"model": "tabdiff", "status": "ok", "params": {"dim_t": 512, "training": {"max_epochs": 200}}}
    variant = {"model": "tabdiff", "label": "paper_width", "status": "ok",
               "params": {"dim_t": 1024, "training": {"max_epochs": 200}}}
    assert paper.write_record(plain, tmp_path).name == "tabdiff.json"
    assert paper.write_record(variant, tmp_path).name == "tabdiff_paper_width.json"
    records = paper.load_records(tmp_path)
    assert [paper.record_name(r) for r in records] == ["tabdiff", "tabdiff (paper_width)"]
    assert paper._variant_lines(records) == [
        "- **Variant `tabdiff (paper_width)`**: `dim_t` 1024 (plain run: 512)."]
