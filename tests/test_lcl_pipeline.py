"""A real portfolio end to end: the project's dvc.yaml on a tiny slice of the Low Carbon London
files (profiles/lcl.yaml with the quick profile's budgets), from prepare to compare, with no
simulated data; then a corrected input file re-runs prepare and everything after it.

The slice is cut from ../shared/datasets/lcl at test time (the dataset is never copied into the
project) into the scratch project's own folder, which ``data.path`` points at.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import ROOT, sh

LCL = ROOT.parent / "shared" / "datasets" / "lcl"
#: a generator and the real reference: the stages' code is the simulated pipeline's
#: (tests/test_pipeline.py runs every stage kind); what is new here is the data
MODELS = ("gaussian_copula", "holdout")
N_PER_TARIFF = {"Std": 60, "ToU": 60}


def lcl_quick_params() -> dict:
    """profiles/lcl.yaml with the quick profile's sizes (models, sample, evaluate, use cases) and
    studies that a slice of 120 customers supports."""
    lcl = yaml.safe_load((ROOT / "profiles" / "lcl.yaml").read_text())
    quick = yaml.safe_load((ROOT / "profiles" / "quick.yaml").read_text())
    params = {**lcl, "sample": quick["sample"], "frugality": quick["frugality"], "release": quick["release"]}
    params["train"] = {"models": {m: quick["train"]["models"][m] for m in MODELS}}
    for model in params["train"]["models"].values():  # the series representation with LCL's own inputs
        if model.get("series_representation") == quick["series"]["responses"]:
            model["series_representation"] = lcl["series"]["responses"]
    params["evaluate"] = {**quick["evaluate"], "series": lcl["evaluate"]["series"]}
    params["usecases"]["acorn_scoring"]["lightgbm"] = quick["usecases"]["financial_ease"]["lightgbm"]
    params["studies"]["lcl"]["min_customers"] = 10
    return params


def write_slice(folder: Path) -> None:
    """The first customers of each tariff (by id) and their daily readings."""
    assert LCL.is_dir(), f"the LCL half is expected at {LCL} (shared/ beside the project checkout)"
    customers = pd.read_parquet(LCL / "customers.parquet").sort_values("customer_id")
    keep = pd.concat([customers[customers["stdorToU"] == t].head(n) for t, n in N_PER_TARIFF.items()])
    consumption = pd.read_parquet(LCL / "consumption.parquet")
    folder.mkdir(parents=True)
    keep.to_parquet(folder / "customers.parquet", index=False)
    consumption[consumption["customer_id"].isin(keep["customer_id"])].to_parquet(folder / "consumption.parquet", index=False)


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    repo = tmp_path_factory.mktemp("lcl-project")
    write_slice(repo / "lcl_slice")
    params = lcl_quick_params()
    params["data"]["path"] = "lcl_slice"
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    (repo / "dvc.yaml").write_bytes((ROOT / "dvc.yaml").read_bytes())
    import shutil

    shutil.copytree(ROOT / "src", repo / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    sh(repo, "git", "init", "-q")
    sh(repo, "dvc", "init", "-q")
    sh(repo, "dvc", "config", "core.analytics", "false")
    res = sh(repo, "dvc", "repro")
    sh(repo, "git", "add", "-A")
    sh(repo, "git", "commit", "-qm", "lcl quick run")
    repo.joinpath("repro.log").write_text(res.stdout + res.stderr)
    return repo


def test_repro_runs_every_stage_to_compare_without_simulating(repo):
    lock = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]
    assert not any(s.startswith("simulate") for s in lock)
    assert {"prepare", "usecase@acorn_scoring", "study@lcl", "compare"} <= set(lock)
    assert {f"evaluate@{m}" for m in MODELS} <= set(lock)
    assert not (repo / "data" / "raw").exists()
    bench = (repo / "reports" / "benchmark.md").read_text()
    rows = [line.split("|")[2].strip() for line in bench.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert set(rows) == set(MODELS)
    page = (repo / "reports" / "index.html").read_text()
    assert all(f'id="model-{m}"' in page for m in MODELS) and "data:image/png;base64," in page
    assert sh(repo, "dvc", "status").stdout.strip().endswith("up to date.")


def test_the_declared_study_and_use_case_follow_the_data(repo):
    study = json.loads((repo / "reports" / "usecases" / "lcl.json").read_text())
    assert study["holdout.conclusions_preserved"] >= 0.8
    table = (repo / "reports" / "usecases" / "lcl.md").read_text()
    for estimate in ("daily_kwh[Acorn_grouped=Affluent]", "winter_summer[Acorn_grouped=", "weekend_effect",
                     "christmas_effect", "tou_effect"):
        assert estimate in table, estimate
    scoring = json.loads((repo / "reports" / "usecases" / "acorn_scoring.json").read_text())
    assert all(isinstance(scoring[f"{m}.tstr_auc"], float) for m in MODELS)
    metrics = json.loads((repo / "reports" / "metrics" / "gaussian_copula.json").read_text())
    assert metrics["utility.Acorn_grouped.tstr_auc"] is not None  # the shipped schema's target
    pillars = pd.read_csv(repo / "reports" / "plots" / "pillars.csv")
    assert set(pillars["model"]) == set(MODELS) and pillars["pillar.utility"].notna().all()


def test_a_changed_input_file_reruns_prepare_and_what_follows(repo):
    customers = pd.read_parquet(repo / "lcl_slice" / "customers.parquet")
    customers.loc[0, "Acorn_grouped"] = "Affluent" if customers.loc[0, "Acorn_grouped"] != "Affluent" else "Adversity"
    customers.to_parquet(repo / "lcl_slice" / "customers.parquet", index=False)
    status = json.loads(sh(repo, "dvc", "status", "--json").stdout)
    assert "prepare" in status and any("lcl_slice" in json.dumps(c) for c in status["prepare"])
    assert all(f"train@{m}" not in status for m in MODELS)  # not yet: their dep is prepare's output
    before = pd.read_parquet(repo / "data" / "processed" / "train" / "customers.parquet")
    sh(repo, "dvc", "repro", "prepare")
    after = pd.concat(pd.read_parquet(repo / "data" / "processed" / s / "customers.parquet") for s in ("train", "holdout", "test"))
    changed = after.set_index("customer_id").loc[customers.loc[0, "customer_id"], "Acorn_grouped"]
    assert changed == customers.loc[0, "Acorn_grouped"]
    status = json.loads(sh(repo, "dvc", "status", "--json").stdout)
    assert {f"train@{m}" for m in MODELS} | {"study@lcl", "usecase@acorn_scoring"} <= set(status)
    assert not before.empty
