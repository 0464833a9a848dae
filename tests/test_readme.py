"""The README's Python example runs as written, and the front door stays short."""

from __future__ import annotations

import re
import subprocess
import sys

from acacia.data.portfolio import Portfolio
from acacia.models import Synthesizer
from conftest import ROOT


def test_the_readme_python_example_runs_as_written(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    assert len(blocks) == 1
    (tmp_path / "example.py").write_text(blocks[0])
    res = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    synthetic = Portfolio.load(tmp_path / "synthetic_portfolio")
    assert len(synthetic) == 1_000 and synthetic.schema.series.n_periods == 52
    again = Synthesizer.load(tmp_path / "copula_model").sample(1_000, seed=1)
    assert again.customers.equals(synthetic.customers)


def test_the_readme_is_a_front_door():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 160
    for link in re.findall(r"\]\(((?:docs|reports)/[^)#]+)", text):
        assert (ROOT / link).exists(), link
