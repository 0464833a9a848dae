"""The offline HTML report: written by the compare stage (and by ``acacia report`` for two
portfolio folders), self-contained, and every picture in it renders in headless Chromium (the apt
package ``chromium``, which `make test` installs when it is missing: Makefile, target browser)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from acacia.data.splits import split_portfolio
from acacia.evaluation.evaluate import evaluate
from acacia.paths import FIGURES, METRICS, PLOTS, REPORT_HTML
from acacia.stages import compare
from acacia.stages.evaluate import PLOT_TABLES, draw_figures
from conftest import make_tiny_portfolio
from test_privacy import _leaky_copy

CFG = {"max_rows": 200, "detection_folds": 3, "lightgbm": {"n_estimators": 10},
       "anonymeter": {"n_attacks": 50, "max_attempts": 2000}}
MODELS = ("holdout", "fresh", "leaky")
PER_MODEL = ("marginals.png", "pairs.png", "projection.png", "dcr.png", "shapes.png", "profile.png",
             "series_bands.png", "series_curves.png")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")
# Appended to a copy of the report: once the page has loaded, count the images that decoded.
PROBE = ("<script>window.addEventListener('load',()=>{const im=[...document.images];"
         "document.body.setAttribute('data-images',im.length);"
         "document.body.setAttribute('data-decoded',im.filter(i=>i.complete&&i.naturalWidth>0).length);"
         "});</script>")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A project folder after evaluate@holdout / fresh (a new draw of the same process: a
    perfect generator, no training needed) / leaky (copies of the training rows), and compare."""
    root = tmp_path_factory.mktemp("report")
    p = make_tiny_portfolio(n=500, seed=3)
    s = split_portfolio(p, {"train": 0.4, "holdout": 0.4, "test": 0.2}, seed=0)
    synthetic = {
        "holdout": s["holdout"],
        "fresh": make_tiny_portfolio(n=200, seed=4),
        "leaky": _leaky_copy(s["train"]),
    }
    for m, syn in synthetic.items():
        metrics, tables = evaluate(s["train"], s["holdout"], s["test"], syn, CFG, synthetic_is_holdout=m == "holdout")
        (root / METRICS).mkdir(parents=True, exist_ok=True)
        (root / METRICS / f"{m}.json").write_text(json.dumps(metrics))
        for name in PLOT_TABLES:
            (root / PLOTS / m).mkdir(parents=True, exist_ok=True)
            tables.get(name, pd.DataFrame()).to_csv(root / PLOTS / m / f"{name}.csv", index=False)
        draw_figures(tables, s["train"], syn, m, root / FIGURES / m)
    params = {"train": {"models": {m: {} for m in MODELS}},
              "compare": {"weights": {"fidelity": 1, "series": 1, "utility": 1, "privacy": 1}}}
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    cwd = Path.cwd()
    try:
        import os

        os.chdir(root)
        compare.run("params.yaml")
    finally:
        os.chdir(cwd)
    return root


def test_compare_writes_a_self_contained_report_pictures_first(project):
    page = (project / REPORT_HTML).read_text()
    srcs = re.findall(r'\ssrc="([^"]*)"', page)
    assert len(srcs) == 2 + len(MODELS) * len(PER_MODEL)  # ranking, pareto, every model's figures
    assert all(s.startswith("data:image/png;base64,") for s in srcs)
    # Nothing fetched from elsewhere: no external link, script, style sheet or font.
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", page.replace("http://www.w3.org", ""))
    assert "<link" not in page and "<script" not in page and "@import" not in page and "url(" not in page
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert hrefs and all(h.startswith("#model-") for h in hrefs)
    # Pictures first: the first table comes after every figure of the overview.
    assert page.index("<img") < page.index("<table")
    assert "LEAK" in page and "leaky" in page


def _decoded_images(page_path: Path, tmp_path: Path) -> tuple[int, int]:
    """(images on the page, images that decoded) once headless Chromium has loaded it."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "chromium is required (apt-get install -y chromium; .ci/run installs it)"
    page = page_path.read_text().replace("</body>", PROBE + "</body>")
    probe = tmp_path / "probe.html"
    probe.write_text(page)
    res = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                          "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120)
    body = re.search(r"<body[^>]*>", res.stdout)
    assert body, f"no DOM dumped (rc {res.returncode}):\n{res.stderr[-2000:]}"
    n = int(re.search(r'data-images="(\d+)"', body.group(0)).group(1))
    return n, int(re.search(r'data-decoded="(\d+)"', body.group(0)).group(1))


def test_report_renders_in_headless_chromium(project, tmp_path):
    n, decoded = _decoded_images(project / REPORT_HTML, tmp_path)
    assert n == 2 + len(MODELS) * len(PER_MODEL) and decoded == n


def test_benchmark_markdown_names_each_verdict(project):
    bench = (project / "reports" / "benchmark.md").read_text()
    verdicts = dict(re.findall(r"^- `(\w+)`: (.+)$", bench, flags=re.M))
    assert verdicts["leaky"].startswith("LEAK") and not verdicts["holdout"].startswith("LEAK")


# ----------------------------------------------------------------------------- acacia report
@pytest.fixture(scope="module")
def two_folders(tmp_path_factory) -> Path:
    """``acacia report`` on two portfolio folders, as a user runs it: no pipeline, no DVC."""
    root = tmp_path_factory.mktemp("two-portfolios")
    make_tiny_portfolio(n=400, seed=3).save(root / "real")
    other = make_tiny_portfolio(n=200, seed=4)
    (root / "other").mkdir()  # a CSV folder without a schema file: read with REAL's schema
    other.customers.to_csv(root / "other" / "customers.csv", index=False)
    other.consumption.to_csv(root / "other" / "consumption.csv", index=False)
    params = {"evaluate": CFG, "studies": {"levels": {"min_customers": 10, "estimates": {
        "heating": [{"type": "level", "by": "heating_energy", "measure": "mean_kwh"}]}}}}
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    res = subprocess.run([sys.executable, "-m", "acacia.cli", "--params", str(root / "params.yaml"), "report",
                          str(root / "real"), str(root / "other"), "--out", str(root / "out")],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    return root / "out"


def test_report_writes_the_pipelines_outputs_for_two_folders(two_folders):
    out = two_folders
    for model in ("other", "holdout"):
        metrics = json.loads((out / "metrics" / f"{model}.json").read_text())
        assert isinstance(metrics["fidelity.shape_mean"], float)
        assert all((out / "figures" / model / name).is_file() for name in PER_MODEL), model
    bench = (out / "benchmark.md").read_text()
    assert "| 1 | holdout |" in bench and "other" in bench
    study = json.loads((out / "usecases" / "levels.json").read_text())
    assert study["holdout.conclusions_preserved"] == 1.0 and "other.conclusions_preserved" in study
    assert "study.levels.conclusions_preserved" in (out / "index.html").read_text()


def test_report_page_renders_in_headless_chromium(two_folders, tmp_path):
    n, decoded = _decoded_images(two_folders / "index.html", tmp_path)
    assert n == 2 + 2 * len(PER_MODEL) and decoded == n


def test_report_names_a_bad_folder_and_keeps_the_unseen_customers_apart(tmp_path):
    from acacia.errors import DataError
    from acacia.report import compare_portfolios, real_splits

    with pytest.raises(DataError, match="OTHER portfolio: folder .*nowhere not found"):
        make_tiny_portfolio(n=50).save(tmp_path / "real")
        compare_portfolios(tmp_path / "real", tmp_path / "nowhere", tmp_path / "out")
    real, unseen = make_tiny_portfolio(n=90, seed=1), make_tiny_portfolio(n=60, seed=2)
    unseen.customers["customer_id"] = "U" + unseen.customers["customer_id"]
    unseen.consumption["customer_id"] = "U" + unseen.consumption["customer_id"]
    parts = real_splits(real, unseen, {}, seed=0)
    assert len(parts["train"]) == 90 and (len(parts["holdout"]), len(parts["test"])) == (40, 20)
    assert not set(parts["holdout"].ids) & set(parts["test"].ids)


def test_studies_come_first_with_their_representation_ceiling(tmp_path):
    from acacia.evaluation.report_html import render_report

    table = pd.DataFrame({"model": ["tabddpm", "copula"], "overall": [0.9, 0.8],
                          "study.longitudinal.conclusions_preserved": [0.7, 0.4]})
    page = render_report(table, tmp_path, ["tabddpm", "copula"], ["model", "overall"],
                         study_ceilings={"longitudinal": 0.95})
    studies = page.index("Studies: the same answers")
    assert studies < page.index("Across models")
    section = page[studies:page.index("Across models")]
    assert "longitudinal: conclusions kept" in section and "representation ceiling" in section and "0.950" in section
    # without a study, no section
    assert "Studies:" not in render_report(table[["model", "overall"]], tmp_path, ["tabddpm"], ["model"])
