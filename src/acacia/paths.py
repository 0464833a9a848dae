"""Where each stage reads and writes, relative to the project root (mirrors dvc.yaml)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acacia.data.schema import atomic_write_text

RAW = Path("data/raw")  # simulate@<name> writes data/raw/<name>
RAW_SIMULATED = RAW / "simulated"
PROCESSED = Path("data/processed")
TEMPERATURE_FILE = "temperature.parquet"  # daily temperature per climate zone, when known
CALENDAR_FILE = "calendar.parquet"  # daily day types (e.g. Tempo red days), when known
SPLITS = ("train", "holdout", "test")
MODELS = Path("models")
CHECKPOINTS = Path(".acacia/checkpoints")
SYNTHETIC = Path("data/synthetic")
METRICS = Path("reports/metrics")
TRAIN_METRICS = Path("reports/train")
SAMPLE_METRICS = Path("reports/sample")
PLOTS = Path("reports/plots")
FIGURES = Path("reports/figures")
BENCHMARK = Path("reports/benchmark.md")
USECASES = Path("reports/usecases")  # usecase@<name> and study@<name>: <name>.json metrics
REPORT_HTML = Path("reports/index.html")  # the self-contained offline report
RELEASES = Path("releases")  # acacia release <model>: shareable portfolio + data card (not a stage)


@dataclass(frozen=True)
class Reports:
    """The layout of a report folder: the pipeline's ``reports/`` or ``acacia report``'s ``--out``."""

    root: Path = Path("reports")

    @property
    def metrics(self) -> Path:
        return self.root / "metrics"

    @property
    def plots(self) -> Path:
        return self.root / "plots"

    @property
    def figures(self) -> Path:
        return self.root / "figures"

    @property
    def usecases(self) -> Path:  # use cases and studies: <name>.json metrics, <name>.md tables
        return self.root / "usecases"

    @property
    def benchmark(self) -> Path:
        return self.root / "benchmark.md"

    @property
    def html(self) -> Path:
        return self.root / "index.html"


@contextlib.contextmanager
def staged_dir(final: Path) -> Iterator[Path]:
    """Yield a temp folder beside ``final``; it replaces ``final`` only if the block succeeds,
    so a failed stage never leaves a half-written output behind."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}."))
    try:
        yield tmp
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def write_json(path: Path, data: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def file_digest(path: Path) -> str:
    """SHA-256 of a file, read in blocks (a split's consumption table need not fit in memory twice)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def saved_fit_split(model_dir: Path) -> str:
    """Which split the model saved in ``model_dir`` was fitted on (its ``model.json``), read
    without loading the model or its code."""
    path = Path(model_dir) / "model.json"
    if not path.exists():
        from acacia.errors import NotFittedError

        raise NotFittedError(f"no fitted model at {model_dir}; run the train stage first")
    return str(json.loads(path.read_text()).get("fit_split", "train"))
