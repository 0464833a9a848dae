"""Shared fixtures: a tiny mixed-type portfolio built in code (fast, independent of the simulator)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from filelock import FileLock

from acacia.data.portfolio import Portfolio
from acacia.data.schema import Column, Schema, SeriesSpec

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


# ----------------------------------------------------------------- parallel runs
#: ``make test`` runs the suite in one worker per core (pytest-xdist, ``--dist loadfile``): a
#: test module is one unit of work, so its module fixtures are built once and its tests run in
#: file order (several build on the state the previous one left). The modules start in the order
#: below, the longest first, so no worker is left with a long tail; the session's scratch
#: pipeline (:func:`quick_project`) is built once for all workers.
FIRST_MODULES = ("tests/test_pipeline.py", "tests/test_lcl_pipeline.py", "tests/test_models_contract.py")

if os.environ.get("PYTEST_XDIST_WORKER"):
    # One core per worker: torch's intra-op threads spin-wait for each other on a busy machine,
    # and the stages a test runs in a subprocess inherit the same setting.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    torch.set_num_threads(1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {m: i for i, m in enumerate(FIRST_MODULES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))  # stable: file order kept


def make_tiny_portfolio(n: int = 240, n_periods: int = 12, seed: int = 0) -> Portfolio:
    """Customers with numeric, integer, categorical, boolean, date and nullable columns, and a
    weekly series whose level depends on heating (so dependence is learnable)."""
    rng = np.random.default_rng(seed)
    heating = rng.choice(["electric_direct", "heat_pump", "gas"], size=n, p=[0.3, 0.2, 0.5])
    surface = rng.lognormal(4.3, 0.35, size=n)
    surface[rng.random(n) < 0.1] = np.nan
    ev = pd.array(np.where(rng.random(n) < 0.1, None, rng.random(n) < 0.2), dtype="boolean")
    schema = Schema(
        columns=[
            Column("customer_id", "id"),
            Column("heating_energy", "categorical", categories=["electric_direct", "gas", "heat_pump"]),
            Column("surface_m2", "numerical", nullable=True, min=5.0),
            Column("household_size", "integer", min=1, max=8),
            Column("ev", "boolean", nullable=True),
            Column("contract_start_date", "date"),
            Column("financial_ease", "categorical", nullable=True, target=True,
                   categories=["difficult", "ok", "comfortable"]),
        ],
        series=SeriesSpec(frequency="weekly", start="2019-01-07", n_periods=n_periods),
    )
    fe = rng.choice(["difficult", "ok", "comfortable", None], size=n, p=[0.2, 0.4, 0.3, 0.1])
    customers = pd.DataFrame(
        {
            "customer_id": pd.Series([f"C{i:05d}" for i in range(n)], dtype=str),
            "heating_energy": pd.Series(heating, dtype=str),
            "surface_m2": surface,
            "household_size": pd.array(rng.integers(1, 6, size=n), dtype="Int64"),
            "ev": ev,
            "contract_start_date": pd.Timestamp("2005-01-01")
            + pd.to_timedelta(rng.integers(0, 5000, size=n), unit="D"),
            "financial_ease": pd.Series(fe, dtype=object).astype("str").where(pd.notna(fe), None),
        }
    )
    electric = np.isin(heating, ["electric_direct", "heat_pump"])
    season = 1 + np.cos(np.linspace(0, 2 * np.pi, n_periods))
    level = np.where(electric, 120.0, 45.0) * rng.lognormal(0, 0.2, size=n)
    mat = level[:, None] * (1 + 0.5 * season[None, :] * electric[:, None])
    mat *= rng.lognormal(0, 0.05, size=mat.shape)
    mat[: n // 10, : n_periods // 3] = np.nan  # late joiners
    consumption = Portfolio.consumption_from_matrix(customers["customer_id"], mat, schema)
    return Portfolio(customers, consumption, schema).validate("tiny fixture")


@pytest.fixture(scope="session")
def tiny_portfolio() -> Portfolio:
    return make_tiny_portfolio()


def toy_table(n: int = 1200, seed: int = 0) -> torch.Tensor:
    """A number x that depends on a category c (±1.5), and a category saying whether x > 0: the
    smallest table on which a mixed-type diffusion must learn a dependence."""
    g = torch.Generator().manual_seed(seed)
    c = torch.randint(0, 2, (n,), generator=g)
    x = torch.where(c == 1, 1.5, -1.5) + 0.3 * torch.randn(n, generator=g)
    return torch.stack([x, c.float(), (x > 0).float()], 1)


# ----------------------------------------------------------------- scratch DVC projects
def sh(repo: Path, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    """A command in a scratch project, with this venv's tools first on the PATH."""
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    res = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True)
    if check and res.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
    return res


def set_param(repo: Path, dotted: str, value) -> None:
    path = repo / "params.yaml"
    params = yaml.safe_load(path.read_text())
    node = params
    *parents, leaf = dotted.split(".")
    for p in parents:
        node = node[p]
    node[leaf] = value
    path.write_text(yaml.safe_dump(params, sort_keys=False))


#: The models of the scratch pipeline: one of each kind of stage behaviour (closed form without
#: a series codec, NumPy with one, a diffusion model with checkpoints, the holdout reference
#: fitted on its own split). Every registered model goes through the same train / sample / save /
#: load code in tests/test_models_contract.py; each model more here adds its train, sample and
#: evaluate stages and a pass of every use case to the suite's most expensive step.
PIPELINE_MODELS = ("independent", "gaussian_copula", "tabdiff", "holdout")


@pytest.fixture(scope="session")
def quick_project(tmp_path_factory) -> Path:
    """The project's dvc.yaml and code in a scratch git + DVC repo, after a full `dvc repro` of the
    quick profile (its :data:`PIPELINE_MODELS`), committed. Built once per run (the suite's most
    expensive step), by the first worker that needs it while the others wait: tests take a copy of
    it (:func:`copy_project`), so none sees another's changes."""
    base = tmp_path_factory.getbasetemp()
    repo = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "quick-project"
    built = Path(f"{repo}.built")
    with FileLock(f"{repo}.lock"):
        if not built.exists():
            shutil.rmtree(repo, ignore_errors=True)  # a worker that failed half-way
            repo.mkdir()
            _build_quick_project(repo)
            built.touch()
    return repo


def _build_quick_project(repo: Path) -> None:
    shutil.copy(ROOT / "dvc.yaml", repo / "dvc.yaml")
    params = yaml.safe_load((ROOT / "profiles" / "quick.yaml").read_text())
    params["train"]["models"] = {m: params["train"]["models"][m] for m in PIPELINE_MODELS}
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    shutil.copytree(ROOT / "src", repo / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    sh(repo, "git", "init", "-q")
    sh(repo, "dvc", "init", "-q")
    sh(repo, "dvc", "config", "core.analytics", "false")
    sh(repo, "dvc", "repro")
    sh(repo, "git", "add", "-A")
    sh(repo, "git", "commit", "-qm", "quick run")


def copy_project(project: Path, dest: Path) -> Path:
    """A copy of a scratch project (workspace, git history and DVC cache), as a clone would be."""
    shutil.copytree(project, dest, symlinks=True)
    return dest

