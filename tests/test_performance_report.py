"""The scaling benchmark's report: the exponent fit and the rendering of its JSON records
(benchmarks/performance_report.py; nothing is measured here)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "performance_report.py"
_spec = importlib.util.spec_from_file_location("performance_report", _PATH)
report = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(report)


def test_scaling_exponent_recovers_a_power_law():
    sizes = [10_000, 100_000, 1_000_000]
    assert report.scaling_exponent(sizes, [3 * n**1.5 for n in sizes]) == pytest.approx(1.5)
    assert report.scaling_exponent(sizes, [7.0, 7.0, 7.0]) == pytest.approx(0.0, abs=1e-12)
    # Missing or non-positive values are left out; one usable point gives no slope.
    assert report.scaling_exponent(sizes, [2.0, None, 200.0]) == pytest.approx(1.0)
    assert report.scaling_exponent(sizes, [2.0, 0.0, None]) is None


def _record(model: str, size: int, **values) -> dict:
    return {"model": model, "size": size, "device": "cpu", "status": "ok", "phase": "done", "train_steps": 30,
            "machine": {"cpu_count": 2, "torch": "2.13.0+cpu"}, **values}


def test_render_has_one_table_per_quantity_with_exponents_and_failures(tmp_path):
    records = [
        _record("tvae", 10_000, epoch_seconds=2.0, sampling={"n": 2000, "customers_per_second": 1000.0},
                peak_rss_mib=500),
        _record("tvae", 100_000, epoch_seconds=20.0, sampling={"n": 2000, "customers_per_second": 500.0},
                peak_rss_mib=900),
        _record("tvae", 1_000_000, status="timeout", phase="loaded"),
    ]
    folder = tmp_path / "performance"
    folder.mkdir()
    for r in records:
        (folder / f"{r['model']}_{r['size']}_cpu.json").write_text(json.dumps(r))
    text = report.render(report.load_records(folder), command="python benchmarks/performance.py")
    for title, *_ in report.QUANTITIES:
        assert f"### {title}" in text
    assert "| model | 10k | 100k | 1M | b |" in text
    assert "| tvae | 2 | 20 | timeout after loaded | 1.00 |" in text
    # Throughput halves per decade: the time per customer grows as n^0.30.
    assert "| tvae | 1,000 | 500 | timeout after loaded | 0.30 |" in text
    assert "## Device: cpu" in text and "- cpu_count: 2" in text


def test_missing_records_folder_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no performance records"):
        report.load_records(tmp_path / "nowhere")


def test_evaluation_families_table_lists_runs_that_recorded_them():
    records = [
        _record("gaussian_copula", 100_000, evaluation={"seconds": 27.0, "families": {"series": 3.0, "Anonymeter": 9.5}}),
        _record("gaussian_copula", 1_000_000, evaluation={"seconds": 376.0, "families": {"series": 31.0, "utility": 80.0}}),
        _record("tvae", 100_000, evaluation={"seconds": 26.0}),
    ]
    text = "\n".join(report._families(records))
    assert "| family | gaussian_copula 100k | gaussian_copula 1M |" in text
    assert "| series | 3 | 31 |" in text and "| Anonymeter | 9.5 |  |" in text and "| utility |  | 80 |" in text
    assert "tvae" not in text and report._families(records[2:]) == []


def test_machine_lists_the_runs_whose_settings_differ():
    records = [_record("tvae", 10_000), _record("tabdiff", 100_000),
               {**_record("causal_diff_tab", 1_000_000), "machine": {"cpu_count": 2, "torch": "2.13.0+cpu",
                                                                      "torch_threads": 2}}]
    for r in records[:2]:
        r["machine"]["torch_threads"] = 1
    lines = report._machine(records)
    assert "- cpu_count: 2" in lines
    assert "- torch_threads: 1 (except causal_diff_tab 1M: 2)" in lines


def test_reproject_reads_the_train_records_of_now(tmp_path):
    spec = importlib.util.spec_from_file_location("performance_bench", _PATH.parent / "performance.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    folder = tmp_path / "performance"
    folder.mkdir()
    stale = {"stopped_epoch": 50, "projected_seconds": 100.0}
    (folder / "tvae_variant_10000_cpu.json").write_text(json.dumps(
        _record("tvae_variant", 10_000, phases={"training": {"epoch_seconds": 2.0}}, to_early_stop=stale)))
    (folder / "gaussian_copula_10000_cpu.json").write_text(json.dumps(_record("gaussian_copula", 10_000)))
    train = tmp_path / "train"
    train.mkdir()
    (train / "tvae_variant.json").write_text(json.dumps({"stopped_epoch": 30, "n_fit": 8000, "train_seconds": 70.0}))
    params = {"train": {"models": {"tvae_variant": {"seed": 0}, "gaussian_copula": {"seed": 0}}}}
    changed = bench.reproject(tmp_path, params, train)
    assert [p.name for p in changed] == ["tvae_variant_10000_cpu.json"]
    projection = json.loads(changed[0].read_text())["to_early_stop"]
    assert projection["stopped_epoch"] == 30 and projection["projected_seconds"] == pytest.approx(60.0)
    assert bench.reproject(tmp_path, params, train) == []  # nothing stale the second time
