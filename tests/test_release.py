"""The release gate and data card, on measured metrics of a fair and a leaky generator."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from acacia.data.splits import split_portfolio
from acacia.errors import DataError, ParamsError
from acacia.evaluation.evaluate import evaluate
from acacia.models import make_model
from acacia.release import (
    DATACARD_JSON,
    DATACARD_MD,
    ReleaseRefused,
    build_datacard,
    check_releasable,
    contents_of,
    release_config,
    write_release,
)
from conftest import ROOT, make_tiny_portfolio
from test_privacy import _leaky_copy

CFG = {"max_rows": 300, "detection_folds": 3, "lightgbm": {"n_estimators": 20},
       "anonymeter": {"n_attacks": 100, "max_attempts": 5000}}
THRESHOLDS = yaml.safe_load((ROOT / "profiles" / "quick.yaml").read_text())["release"]["privacy_thresholds"]


@pytest.fixture(scope="module")
def scored():
    p = make_tiny_portfolio(n=800, seed=3)
    s = split_portfolio(p, {"train": 0.4, "holdout": 0.4, "test": 0.2}, seed=0)
    fair = make_model("gaussian_copula", {"seed": 0}).fit(s["train"]).sample(len(s["train"]), seed=1)
    out = {}
    for name, syn in (("gaussian_copula", fair), ("leaky", _leaky_copy(s["train"]))):
        metrics, _ = evaluate(s["train"], s["holdout"], s["test"], syn, CFG)
        out[name] = (syn, metrics)
    return out


def test_a_fair_generator_passes_every_check(scored):
    checks = check_releasable("gaussian_copula", scored["gaussian_copula"][1], THRESHOLDS)
    names = {c.name for c in checks}
    assert {"DCR share", "exact copies", "MIA (distance)", "MIA (density)"} <= names
    assert any(n.startswith("Anonymeter") for n in names)
    assert all(c.failed is False and c.value is not None for c in checks)


def test_the_leaky_generator_is_refused_with_the_failing_checks_named(scored):
    metrics = scored["leaky"][1]
    with pytest.raises(ReleaseRefused) as e:
        check_releasable("leaky", metrics, THRESHOLDS)
    msg = str(e.value)
    for name in ("DCR share", "exact copies", "MIA (distance)", "Anonymeter singling out"):
        assert name in msg, name
    # The measured value and its threshold are both shown.
    assert f"privacy.dcr_share = {metrics['privacy.dcr_share']:.4g} > {THRESHOLDS['dcr_share']:.4g}" in msg
    assert "release.privacy_thresholds" in msg


def test_a_check_without_its_metric_refuses(scored):
    metrics = {**scored["gaussian_copula"][1], "privacy.mia_density_auc": None}
    with pytest.raises(ReleaseRefused, match=r"MIA \(density\): privacy.mia_density_auc not measured"):
        check_releasable("gaussian_copula", metrics, THRESHOLDS)


def test_stricter_thresholds_refuse_the_fair_generator(scored):
    metrics = scored["gaussian_copula"][1]
    strict = {**THRESHOLDS, "dcr_share": metrics["privacy.dcr_share"] - 0.01}
    with pytest.raises(ReleaseRefused, match="DCR share"):
        check_releasable("gaussian_copula", metrics, strict)


def test_bad_release_params_are_named():
    with pytest.raises(ParamsError, match="release: unknown key"):
        release_config({"thresholds": {}})
    with pytest.raises(ParamsError, match="privacy_thresholds: unknown key 'dcr'"):
        release_config({"privacy_thresholds": {"dcr": 0.6}})
    with pytest.raises(ParamsError, match="release.known_limits"):
        release_config({"known_limits": "small"})


def test_the_release_holds_the_tables_and_their_data_card(scored, tmp_path):
    syn, metrics = scored["gaussian_copula"]
    src = tmp_path / "synthetic"
    syn.save(src)
    checks = check_releasable("gaussian_copula", metrics, THRESHOLDS)
    card = build_datacard(
        "gaussian_copula", {"name": "gaussian_copula", "params": {"seed": 0}}, {"sample": {"seed": 1}},
        {"git_commit": "abc123", "git_dirty": False, "dvc_version": "3", "dvc_lock": {"data/processed": "d41d.dir"}},
        metrics, checks, contents_of(src), ["Simulated source data."],
    )
    dest = tmp_path / "releases" / "gaussian_copula"
    write_release(src, dest, card)
    pd.testing.assert_frame_equal(pd.read_parquet(dest / "customers.parquet"), syn.customers)
    saved = json.loads((dest / DATACARD_JSON).read_text())
    assert saved["generator"]["name"] == "gaussian_copula"
    assert saved["revisions"]["git_commit"] == "abc123"
    assert saved["summary"]["privacy"]["privacy.dcr_share"] == metrics["privacy.dcr_share"]
    assert set(saved["summary"]) == {"fidelity", "series", "utility", "privacy"}
    assert all(c["passed"] for c in saved["privacy_checks"])
    assert saved["contents"]["n_customers"] == len(syn)
    assert "Simulated source data." in saved["known_limits"]
    md = (dest / DATACARD_MD).read_text()
    for text in ("gaussian_copula", "abc123", "d41d.dir", "Known limits", "DCR share", "fidelity.shape_mean"):
        assert text in md, text


def test_a_failed_release_leaves_nothing_behind(scored, tmp_path):
    syn, _ = scored["gaussian_copula"]
    src = tmp_path / "synthetic"
    syn.save(src)
    (src / "consumption.parquet").unlink()
    with pytest.raises(DataError, match="consumption.parquet"):
        write_release(src, tmp_path / "releases" / "x", {})
    assert not (tmp_path / "releases" / "x").exists()


def test_the_holdout_reference_is_never_released(tiny_portfolio, tmp_path, monkeypatch):
    """The benchmark's ceiling row is real customers: its privacy numbers are those of unseen real
    data, which would pass every check, so the stage refuses it for what it is."""
    from acacia.stages import release

    monkeypatch.chdir(tmp_path)
    make_model("holdout").fit(tiny_portfolio).save(tmp_path / "models" / "holdout")
    tiny_portfolio.save(tmp_path / "data" / "synthetic" / "holdout")
    (tmp_path / "reports" / "metrics").mkdir(parents=True)
    (tmp_path / "reports" / "metrics" / "holdout.json").write_text("{}")
    (tmp_path / "params.yaml").write_text((ROOT / "profiles" / "quick.yaml").read_text())
    with pytest.raises(ReleaseRefused, match="'holdout' is not released: it returns real customers"):
        release.run("params.yaml", "holdout")
    assert not (tmp_path / "releases").exists()
