"""Run the whole pipeline on a params profile in a scratch clone and keep its reports.

    .venv/bin/python benchmarks/profile_run.py lcl            # -> reports/lcl/
    .venv/bin/python benchmarks/profile_run.py --here         # this checkout's own `dvc repro`
                                                              #    -> reports/run.md
    .venv/bin/python benchmarks/profile_run.py default        # params.yaml as committed, in a
                                                              #    fresh clone -> reports/fresh_clone/

Clones the project's committed HEAD beside the project (so relative data paths such as
``../shared/datasets/lcl`` resolve as they do here), copies ``profiles/<profile>.yaml`` over
``params.yaml``, runs ``dvc repro`` with the clone's own code, times every stage, and copies the
run's reports (ranking, benchmark, metrics, use cases and studies, figures) into
``reports/<profile>/`` of this project with ``run.md``: commit, machine, wall time per stage. The
profile ``default`` keeps the committed params.yaml: a new user's first ``make run``, every stage
from scratch, its reports in ``reports/fresh_clone/`` beside the committed ones. The
self-contained ``index.html`` (several MB) stays in the clone (``--keep``) and is not copied.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from acacia.data.schema import atomic_write_text  # noqa: E402

#: the profile name that runs the committed params.yaml itself
DEFAULT = "default"
COPIED = ("benchmark.md", "figures/ranking.png", "figures/pareto.png", "plots/pillars.csv")


def run_here() -> Path:
    """``dvc repro`` of this checkout as it is (params.yaml), timed per stage into reports/run.md."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout.strip()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}
    stages, _ = _timed_repro(ROOT, env)
    out = ROOT / "reports" / "run.md"
    atomic_write_text(out, _run_md("params.yaml", commit, stages, None))
    return out


def run(profile: str | None, keep: bool, here: bool = False, force: bool = False) -> Path:
    if here:
        return run_here()
    if profile is None:
        raise SystemExit("name a profile (e.g. lcl) or pass --here")
    source = ROOT / ("params.yaml" if profile == DEFAULT else f"profiles/{profile}.yaml")
    if not source.is_file():
        raise SystemExit(f"no profile {source}")
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout.strip()
    if dirty:
        print(f"warning: uncommitted changes are not part of the run (HEAD {commit})", file=sys.stderr)
    clone = ROOT.parent / f"acacia-{profile}-run"
    if clone.exists():
        shutil.rmtree(clone)
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    if profile != DEFAULT:
        shutil.copyfile(source, clone / "params.yaml")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
           "PYTHONPATH": str(clone / "src"), "DVC_NO_ANALYTICS": "1"}
    subprocess.run(["dvc", "config", "core.analytics", "false"], cwd=clone, env=env, check=True)
    stages, _ = _timed_repro(clone, env, force)
    out = ROOT / "reports" / ("fresh_clone" if profile == DEFAULT else profile)
    _copy_reports(clone, out, yaml.safe_load(source.read_text()))
    atomic_write_text(out / "run.md", _run_md(profile, commit, stages, clone))
    if not keep:
        shutil.rmtree(clone)
    return out


def _timed_repro(clone: Path, env: dict[str, str], force: bool = False) -> tuple[list[tuple[str, float]], str]:
    """``dvc repro`` (``-f``: every stage, up to date or not) in the clone: (stage, wall seconds)
    in the order run, and the log."""
    start = time.perf_counter()
    proc = subprocess.Popen(["dvc", "repro", *(["-f"] if force else [])], cwd=clone, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    stages: list[tuple[str, float]] = []
    current, since, lines = None, start, []
    for line in proc.stdout:
        lines.append(line)
        sys.stdout.write(line)
        if line.startswith("Running stage '") or line.endswith("didn't change, skipping\n"):
            now = time.perf_counter()
            if current is not None:
                stages.append((current, now - since))
            current, since = line.split("'")[1], now
            if not line.startswith("Running"):  # up to date: its deps match dvc.lock
                stages.append((current, float("nan")))
                current = None
    if proc.wait() != 0:
        raise SystemExit(f"dvc repro failed in {clone} (rc {proc.returncode})")
    end = time.perf_counter()
    if current is not None:
        stages.append((current, end - since))
    stages.append(("total", end - start))
    return stages, "".join(lines)


def _copy_reports(clone: Path, out: Path, params: dict) -> None:
    if out.exists():
        shutil.rmtree(out)
    reports = clone / "reports"
    names = [*(params.get("usecases") or {}), *(params.get("studies") or {})]
    files = [*COPIED, *(f"usecases/{n}.{ext}" for n in names for ext in ("md", "json")),
             *(f"figures/usecases/{n}.png" for n in names)]
    # only the profile's models: the clone also holds the files the default run committed
    files += [f"{d}/{m}.json" for d in ("metrics", "train", "sample") for m in params["train"]["models"]]
    for rel in files:
        if (reports / rel).is_file():
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(reports / rel, out / rel)


def _run_md(profile: str, commit: str, stages: list[tuple[str, float]], clone: Path | None) -> str:
    total = dict(stages)["total"]
    skipped = [name for name, sec in stages if sec != sec]  # NaN: up to date, not run
    if clone is None:
        title, how = "# `dvc repro` of params.yaml", (
            f"Produced by `benchmarks/profile_run.py --here`: commit {commit}, {time.strftime('%Y-%m-%d')}, "
            f"{os.cpu_count()} CPU cores, no GPU; the stages of `dvc repro`, in order, with their wall "
            f"time (`skipped`: up to date, not run). Total {total / 60:.1f} min.")
    else:
        used = "params.yaml" if profile == DEFAULT else f"profiles/{profile}.yaml"
        ran = ("Every stage ran" if not skipped else
               f"{len(skipped)} stages did not run (`skipped`: their deps, data and models included, matched "
               "the committed dvc.lock, so DVC kept the committed outputs; `--force` runs them too)")
        title, how = f"# `dvc repro` with {used}", (
            f"Produced by `benchmarks/profile_run.py {profile}`: commit {commit}, {time.strftime('%Y-%m-%d')}, "
            f"{os.cpu_count()} CPU cores, no GPU, in a fresh clone (`{clone.name}`). {ran}; "
            f"wall time {total / 60:.1f} min. The ranking is `benchmark.md`; the studies and use cases are "
            "under `usecases/`; the offline page (`reports/index.html` of the run) is not kept here.")
    lines = [
        title,
        "",
        how,
        "",
        "| stage | wall s |",
        "| --- | ---: |",
    ]
    lines += [f"| {name} | {'skipped' if sec != sec else f'{sec:.1f}'} |" for name, sec in stages]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("profile", nargs="?", help="a file of profiles/ without .yaml, e.g. lcl; "
                    f"{DEFAULT!r}: params.yaml as committed")
    ap.add_argument("--keep", action="store_true", help="keep the scratch clone (its index.html, models)")
    ap.add_argument("--here", action="store_true", help="run this checkout's own dvc repro (params.yaml)")
    ap.add_argument("--force", action="store_true", help="dvc repro -f in the clone: every stage runs, even one "
                    "whose deps match the committed dvc.lock")
    print(run(**vars(ap.parse_args())))
