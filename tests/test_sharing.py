"""Sharing and publishing, end to end, in a scratch git + DVC repo on the quick profile.

The repo is a copy of the session's quick project (conftest ``quick_project``: every stage run
once), with the project's own ``.dvc/config`` as a fresh clone has it; then it pushes to the
``shared`` remote on a real S3 server (SeaweedFS, tests/s3_server.py) and pulls back, releases the portfolio, and runs the notebook tour on the release. Tests build on the
state the previous one left, in file order.
"""

from __future__ import annotations

import json
import os
import shutil
import sys

import nbformat
import pandas as pd
import pytest
import yaml
from nbclient import NotebookClient

from conftest import ROOT, copy_project, set_param, sh
from s3_server import list_objects, refused_with, seaweedfs_s3

MODEL = "gaussian_copula"
BUCKET = "acacia-team"
REAL_STAGES = ("simulate@simulated", "prepare")  # dvc.lock names; dvc.yaml's are before the '@'


def test_only_synthetic_outputs_have_a_remote():
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    for name in REAL_STAGES:
        stage = stages[name.split("@")[0]]
        for out in stage.get("do", stage)["outs"]:
            (path, spec), = out.items()
            assert spec.get("push") is False and "remote" not in spec, (name, path)
    for name, path in (("train", "models/${key}"), ("sample", "data/synthetic/${key}")):
        outs = {k: v for o in stages[name]["do"]["outs"] for k, v in o.items()}
        assert outs[path].get("remote") == "shared", (name, path)
    config = (ROOT / ".dvc" / "config").read_text()
    assert "['remote \"shared\"']" in config and "remote = shared" not in config  # no default remote


@pytest.fixture(scope="module")
def repo(quick_project, tmp_path_factory):
    """A copy of the session's quick project with the project's own remotes, as a fresh clone has."""
    repo = copy_project(quick_project, tmp_path_factory.mktemp("sharing") / "project")
    shutil.copy(ROOT / ".dvc" / "config", repo / ".dvc" / "config")
    sh(repo, "git", "commit", "-qam", "the project's remotes")
    return repo


def _manifest(repo, digest: str) -> list[dict]:
    path = repo / ".dvc" / "cache" / "files" / "md5" / digest[:2] / digest[2:]
    return json.loads(path.read_text())


def _lock_outs(repo, stage: str) -> list[dict]:
    return yaml.safe_load((repo / "dvc.lock").read_text())["stages"][stage]["outs"]


def _forget(repo, out: dict) -> None:
    """Remove an output from the workspace and the cache, as on a colleague's clone."""
    shutil.rmtree(repo / out["path"])
    for digest in [out["md5"], *(e["md5"] for e in _manifest(repo, out["md5"]))]:
        (repo / ".dvc" / "cache" / "files" / "md5" / digest[:2] / digest[2:]).unlink(missing_ok=True)


def _real_objects(repo) -> dict[str, str]:
    """Every object of the raw and processed real data: md5 → what it is. The schema files are
    left out: synthetic portfolios carry the same schema, byte for byte, and it holds no row."""
    out = {}
    for stage in REAL_STAGES:
        for o in _lock_outs(repo, stage):
            out[o["md5"].removesuffix(".dir")] = o["path"]
            for entry in _manifest(repo, o["md5"]):
                if not entry["relpath"].endswith("schema.json"):
                    out[entry["md5"]] = f"{o['path']}/{entry['relpath']}"
    return out


def test_s3_push_pull_round_trip_carries_no_real_data(repo, tmp_path):
    with seaweedfs_s3(tmp_path / "seaweedfs", BUCKET) as server:
        # A team's set-up (README): the URL and endpoint, credentials in the uncommitted config.local.
        for args in (("url", f"s3://{BUCKET}/acacia"), ("endpointurl", server.endpoint),
                     ("access_key_id", server.access_key), ("secret_access_key", server.secret_key)):
            sh(repo, "dvc", "remote", "modify", "--local", "shared", *args)
        sh(repo, "dvc", "push")
        keys = list_objects(server, BUCKET)
        pushed = {"".join(k.split("/")[-2:]).removesuffix(".dir") for k in keys}
        real = _real_objects(repo)
        assert not pushed & set(real), sorted(real[d] for d in pushed & set(real))
        syn = _lock_outs(repo, f"sample@{MODEL}")[0]
        model = _lock_outs(repo, f"train@{MODEL}")[0]
        for o in (syn, model):
            assert o["md5"].removesuffix(".dir") in pushed
            assert {e["md5"] for e in _manifest(repo, o["md5"])} <= pushed

        folder = repo / "data" / "synthetic" / MODEL
        expected = pd.read_parquet(folder / "customers.parquet")
        _forget(repo, syn)
        sh(repo, "dvc", "pull", f"sample@{MODEL}")
        pd.testing.assert_frame_equal(pd.read_parquet(folder / "customers.parquet"), expected)
        status = sh(repo, "dvc", "status", "--with-deps", f"evaluate@{MODEL}").stdout
        assert status.strip().endswith("up to date."), status

        # Wrong credentials: the server refuses, and so dvc fails.
        assert refused_with(server, BUCKET, secret="not-the-secret")
        sh(repo, "dvc", "remote", "modify", "--local", "shared", "secret_access_key", "not-the-secret")
        _forget(repo, syn)
        res = sh(repo, "dvc", "pull", f"sample@{MODEL}", check=False)
        assert res.returncode != 0
        assert "403" in res.stderr or "Forbidden" in res.stderr or "denied" in res.stderr.lower(), res.stderr
        assert not (folder / "customers.parquet").exists()
        sh(repo, "dvc", "remote", "modify", "--local", "shared", "secret_access_key", server.secret_key)
        sh(repo, "dvc", "pull", f"sample@{MODEL}")
    (repo / ".dvc" / "config.local").unlink()
    # The server was stopped by its PID.
    with pytest.raises(ProcessLookupError):
        os.kill(server.pid, 0)


def test_release_packages_the_portfolio_with_its_data_card(repo):
    res = sh(repo, "acacia", "release", MODEL)
    assert "released releases/gaussian_copula" in res.stdout
    out = repo / "releases" / MODEL
    pd.testing.assert_frame_equal(pd.read_parquet(out / "customers.parquet"),
                                  pd.read_parquet(repo / "data" / "synthetic" / MODEL / "customers.parquet"))
    card = json.loads((out / "datacard.json").read_text())
    fitted = json.loads((repo / "models" / MODEL / "model.json").read_text())
    assert card["generator"] == {"name": MODEL, "params": fitted["params"]} and fitted["params"]["seed"] == 0
    assert card["revisions"]["git_commit"] == sh(repo, "git", "rev-parse", "HEAD").stdout.strip()
    assert card["revisions"]["git_dirty"] is False
    lock = card["revisions"]["dvc_lock"]
    assert lock[f"data/synthetic/{MODEL}"] == _lock_outs(repo, f"sample@{MODEL}")[0]["md5"]
    assert lock["data/processed"] == _lock_outs(repo, "prepare")[0]["md5"]
    assert card["params"]["sample"]["seed"] == 1 and f"train.models.{MODEL}" in card["params"]
    metrics = json.loads((repo / "reports" / "metrics" / f"{MODEL}.json").read_text())
    assert card["summary"]["privacy"]["privacy.dcr_share"] == metrics["privacy.dcr_share"]
    assert card["summary"]["fidelity"]["fidelity.shape_mean"] == metrics["fidelity.shape_mean"]
    assert all(c["passed"] for c in card["privacy_checks"]) and len(card["privacy_checks"]) >= 10
    assert card["known_limits"]
    assert "Known limits" in (out / "DATACARD.md").read_text()


def test_release_refuses_when_a_privacy_check_fails(repo):
    metrics = json.loads((repo / "reports" / "metrics" / f"{MODEL}.json").read_text())
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["release"]["privacy_thresholds"]["dcr_share"] = round(metrics["privacy.dcr_share"] - 0.05, 3)
    strict = repo / "strict.yaml"
    strict.write_text(yaml.safe_dump(params))
    card_before = (repo / "releases" / MODEL / "datacard.json").read_text()
    res = sh(repo, "acacia", "--params", str(strict), "release", MODEL, check=False)
    assert res.returncode == 2
    assert "DCR share: privacy.dcr_share" in res.stderr and "fails" in res.stderr
    assert (repo / "releases" / MODEL / "datacard.json").read_text() == card_before
    strict.unlink()


def test_release_refuses_stale_evidence(repo, monkeypatch):
    from acacia.release import ReleaseRefused
    from acacia.stages import release

    monkeypatch.chdir(repo)
    set_param(repo, "sample.seed", 7)
    try:
        with pytest.raises(ReleaseRefused, match=rf"out of date \(.*sample@{MODEL}"):
            release.run("params.yaml", MODEL)
    finally:
        set_param(repo, "sample.seed", 1)


def test_notebook_tour_runs_on_the_release(repo, monkeypatch):
    nb = nbformat.read(ROOT / "notebooks" / "tour.ipynb", as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit it without outputs"
    monkeypatch.setenv("ACACIA_PROJECT", str(repo))
    monkeypatch.setenv("ACACIA_MODEL", MODEL)
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb.cells.append(nbformat.v4.new_code_cell("import sys; print('prefix:', sys.prefix)"))
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(repo)}})
    client.execute()
    assert nb.cells[-1].outputs[0]["text"].strip() == f"prefix: {sys.prefix}"  # the project's environment
    nb.cells.pop()
    text = "\n".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
                     for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "heat_pump" in text and "intervals overlap for" in text
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(images) == 2
