"""End to end: a scratch git + DVC repo runs the real dvc.yaml on the quick profile.

One module-scoped repo serves every test here; each test builds on the state the previous one
left (repro, then a param change, then a push/pull), in file order, as a user would.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import PIPELINE_MODELS as MODELS
from conftest import copy_project, set_param, sh


@pytest.fixture(scope="module")
def repo(quick_project, tmp_path_factory) -> Path:
    return copy_project(quick_project, tmp_path_factory.mktemp("pipeline") / "project")


def test_repro_writes_every_stage_output(repo):
    for m in MODELS:
        metrics = json.loads((repo / "reports" / "metrics" / f"{m}.json").read_text())
        for key in ("fidelity.shape_mean", "fidelity.trend_mean", "detection.logistic",
                    "detection.lightgbm", "privacy.dcr_share"):
            assert isinstance(metrics[key], float), (m, key)
        assert any(k.startswith("utility.") and k.endswith("tstr_auc") for k in metrics)
        # the holdout reference's sample is its rows' positions, never the real customers
        # (it goes to the shared remote like a model's: tests/test_holdout_reference.py)
        written = {f.name for f in (repo / "data" / "synthetic" / m).iterdir()}
        assert written == ({"reference.json"} if m == "holdout" else {"customers.parquet", "consumption.parquet",
                                                                      "schema.json"}), (m, written)
        assert (repo / "reports" / "figures" / m / "shapes.png").exists()
        for fig in ("marginals.png", "pairs.png", "projection.png", "dcr.png"):
            assert (repo / "reports" / "figures" / m / fig).exists(), (m, fig)
    bench = (repo / "reports" / "benchmark.md").read_text()
    rows = [line for line in bench.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert [r.split("|")[2].strip() for r in rows] and {r.split("|")[2].strip() for r in rows} == set(MODELS)
    assert "holdout" in bench
    page = (repo / "reports" / "index.html").read_text()  # the offline report, every model's pictures
    assert all(f'id="model-{m}"' in page for m in MODELS) and "data:image/png;base64," in page
    assert sh(repo, "dvc", "status").stdout.strip().endswith("up to date.")


def test_usecase_and_study_outputs(repo, monkeypatch):
    reports = repo / "reports"
    heat = json.loads((reports / "usecases" / "heating_detection.json").read_text())
    fe = json.loads((reports / "usecases" / "financial_ease.json").read_text())
    study = json.loads((reports / "usecases" / "longitudinal.json").read_text())
    for m in MODELS:
        assert isinstance(heat[f"cnn.{m}.auc_gain_small_n"], float), m
        assert isinstance(heat[f"lightgbm.{m}.auc_gain_small_n"], float), m
        assert isinstance(fe[f"{m}.tstr_auc"], float) and isinstance(fe[f"{m}.importance_spearman"], float), m
        assert 0.0 <= study[f"{m}.conclusions_preserved"] <= 1.0, m
    curve = pd.read_csv(reports / "plots" / "usecases" / "heating_detection.csv")
    assert set(curve["source"]) == {"real_only", *MODELS}
    for name in ("heating_detection", "financial_ease", "longitudinal"):
        assert (reports / "figures" / "usecases" / f"{name}.png").exists(), name
    assert "| estimate |" in (reports / "usecases" / "longitudinal.md").read_text()
    # compare reads the study's share of conclusions into each model's row (the utility pillar)
    from acacia.stages.study import study_metrics

    monkeypatch.chdir(repo)
    assert study_metrics("holdout", ["longitudinal", "not_run"]) == {
        "study.longitudinal.conclusions_preserved": study["holdout.conclusions_preserved"]}


def test_per_model_stage_depends_only_on_its_params(repo):
    set_param(repo, "train.models.gaussian_copula.seed", 3)
    out = json.loads(sh(repo, "dvc", "status", "--json").stdout)
    assert "train@gaussian_copula" in out
    assert "train@independent" not in out and "train@holdout" not in out
    set_param(repo, "train.models.gaussian_copula.seed", 0)
    assert json.loads(sh(repo, "dvc", "status", "--json").stdout) == {}


def test_editing_one_model_file_reruns_that_models_stages_only(repo):
    model_file = repo / "src" / "acacia" / "models" / "tabdiff.py"
    original = model_file.read_text()
    model_file.write_text(original + "\n# an edit of this model's file\n")
    try:
        out = json.loads(sh(repo, "dvc", "status", "--json").stdout)
        # evaluate@tabdiff and what reads every portfolio follow once sample@tabdiff writes anew
        assert set(out) == {"train@tabdiff", "sample@tabdiff"}, out
    finally:
        model_file.write_text(original)
    assert json.loads(sh(repo, "dvc", "status", "--json").stdout) == {}


def test_metrics_diff_after_a_param_change(repo):
    before = (repo / "reports" / "train" / "independent.json").read_text()
    # One model's param and only its chain up to its metrics (the use cases that read every
    # portfolio would re-run too under a plain `dvc repro`: a minute of the suite for nothing
    # metrics diff needs).
    set_param(repo, "train.models.gaussian_copula.seed", 3)
    sh(repo, "dvc", "repro", "evaluate@gaussian_copula")
    assert (repo / "reports" / "train" / "independent.json").read_text() == before
    sh(repo, "git", "add", "-A")
    sh(repo, "git", "commit", "-qm", "new copula seed")
    diff = json.loads(sh(repo, "dvc", "metrics", "diff", "HEAD~1", "--json").stdout)
    changed = {f for f, d in diff.items() if d}
    assert any("reports/metrics/gaussian_copula.json" in f for f in changed), diff


def test_push_pull_synthetic_only(repo, tmp_path):
    remote = tmp_path / "remote"
    # Not the default remote: the outputs declared `remote: shared` in dvc.yaml find it alone.
    sh(repo, "dvc", "remote", "add", "shared", str(remote))
    sh(repo, "dvc", "push")
    pushed = {p.name for p in remote.rglob("*") if p.is_file()}
    assert pushed, "nothing was pushed"
    # Raw and processed real data are declared push: false: none of their objects may travel.
    lock = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]
    for stage in ("simulate@simulated", "prepare"):
        for out in lock[stage]["outs"]:
            digest = out["md5"].removesuffix(".dir")
            assert not any(digest[2:] in name for name in pushed), (stage, out["path"])

    syn = repo / "data" / "synthetic" / "gaussian_copula"
    expected = pd.read_parquet(syn / "customers.parquet")
    shutil.rmtree(syn)
    shutil.rmtree(repo / ".dvc" / "cache")
    sh(repo, "dvc", "pull", "sample@gaussian_copula")
    pd.testing.assert_frame_equal(pd.read_parquet(syn / "customers.parquet"), expected)


def test_missing_param_names_the_key(repo):
    params = yaml.safe_load((repo / "params.yaml").read_text())
    del params["sample"]["seed"]
    bad = repo / "bad_params.yaml"
    bad.write_text(yaml.safe_dump(params))
    res = sh(repo, "acacia", "--params", str(bad), "sample", "independent", check=False)
    assert res.returncode == 2
    assert "sample.seed" in res.stderr


def test_unknown_model_and_missing_data_are_named(repo, tmp_path):
    res = sh(repo, "acacia", "train", "no_such_model", check=False)
    assert res.returncode == 2 and "train.models.no_such_model" in res.stderr
    res = sh(tmp_path, "acacia", "--params", str(repo / "params.yaml"), "sample", "independent",
             check=False)
    assert res.returncode == 2 and "models/independent" in res.stderr
