"""``acacia report REAL OTHER --out DIR``: the benchmark's metrics, figures and offline HTML page
for two portfolios on disk, without the pipeline (docs/report.md).

``OTHER`` (a synthetic portfolio, or another real one: another year, another region) is scored
against ``REAL`` exactly as ``evaluate`` scores a model against the real splits, and ``compare``
ranks it beside the ``holdout`` reference. ``REAL`` is split by customer as ``prepare`` splits
(``prepare.split`` of ``--params``, default 40 / 40 / 20 %): OTHER is compared with its train
part, the holdout part is the reference (what a second real sample scores), the test part is the
unseen side of detection and utility. Privacy attacks measure how close OTHER sits to REAL's train
part compared with its holdout part: they read leakage only when OTHER was generated from that
train part alone. When OTHER was generated from all of REAL, give the real customers it never saw
with ``--unseen``: REAL is then the train side, and the unseen customers the holdout and test.

A folder holds ``customers.(parquet|csv)``, ``consumption.(parquet|csv)`` (absent for a table
without series) and optionally ``schema.(json|yaml|yml)``: the pipeline's ``data/processed/<split>``,
``data/synthetic/<model>`` and ``releases/<model>`` folders all read as they are. The schema is
``--schema``, else REAL's own, else inferred from REAL (``acacia schema infer``); OTHER is read
with the same schema, so a category or column it invents is an error naming it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pandas as pd

from acacia.data.infer import infer_schema_from_files
from acacia.data.loaders import load_temperature, load_user_files, temperature_file
from acacia.data.portfolio import Portfolio
from acacia.data.schema import Schema
from acacia.data.splits import check_fractions, split_portfolio, split_with_fixed_test
from acacia.errors import DataError
from acacia.evaluation.evaluate import evaluate
from acacia.evaluation.outputs import write_benchmark, write_evaluation
from acacia.paths import Reports
from acacia.usecases.studies import NoEstimate, compare_studies, config, write_study

SCHEMA_NAMES = ("schema.json", "schema.yaml", "schema.yml")
DEFAULT_SPLIT = {"train": 0.4, "holdout": 0.4, "test": 0.2}
REFERENCE = "holdout"


def _table(folder: Path, stem: str, required: bool) -> Path | None:
    for suffix in (".parquet", ".csv"):
        if (folder / f"{stem}{suffix}").is_file():
            return folder / f"{stem}{suffix}"
    if required:
        raise DataError(f"{folder}: no {stem}.parquet or {stem}.csv")
    return None


def folder_schema(folder: Path) -> Schema | None:
    """The schema file a portfolio folder carries, if any."""
    path = next((folder / n for n in SCHEMA_NAMES if (folder / n).is_file()), None)
    return Schema.load(path) if path is not None else None


def load_folder(folder: str | Path, schema: Schema | None, role: str) -> Portfolio:
    """A portfolio folder read with ``schema`` (None: its own schema file, else inferred)."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise DataError(f"{role} portfolio: folder {folder} not found")
    customers = _table(folder, "customers", required=True)
    consumption = _table(folder, "consumption", required=False)
    if schema is None:
        schema = folder_schema(folder)
    if schema is None:
        print(f"acacia report: {folder} has no schema file: inferred from its tables", file=sys.stderr)
        schema = infer_schema_from_files(customers, consumption)
    if schema.series is None:
        consumption = None
    return load_user_files(customers, consumption, schema)


def real_splits(real: Portfolio, unseen: Portfolio | None, fractions: dict[str, float], seed: int) -> dict[str, Portfolio]:
    """train / holdout / test: REAL split by customer, or REAL whole beside the unseen customers
    split two to one into holdout and test."""
    if unseen is None:
        return split_portfolio(real, check_fractions(fractions), seed)
    parts = split_with_fixed_test(unseen, unseen.subset([]), 1 / 3, seed)
    return {"train": real, "holdout": parts["train"], "test": parts["holdout"]}


def compare_portfolios(real_dir: str | Path, other_dir: str | Path, out: str | Path,
                       params: dict[str, Any] | None = None, schema: Schema | None = None,
                       unseen_dir: str | Path | None = None, name: str | None = None) -> pd.DataFrame:
    """Write ``out``'s report (metrics, plot data, figures, studies, benchmark.md, index.html)
    and return the ranked table."""
    params = params or {}
    real = load_folder(real_dir, schema, "REAL")
    other = load_folder(other_dir, real.schema, "OTHER")
    unseen = load_folder(unseen_dir, real.schema, "unseen") if unseen_dir is not None else None
    name = name or Path(other_dir).expanduser().resolve().name
    if name == REFERENCE:
        raise DataError(f"the compared portfolio cannot be named '{REFERENCE}' (the reference row): pass --name")
    prepare = params.get("prepare") or {}
    splits = real_splits(real, unseen, prepare.get("split", DEFAULT_SPLIT), int(prepare.get("seed", 0)))
    weather = temperature_file(Path(real_dir).expanduser())
    temperature = load_temperature(weather) if weather is not None else None
    reports = Reports(Path(out))
    rows = []
    for model, portfolio in ((name, other), (REFERENCE, splits["holdout"])):
        metrics, plot_data = evaluate(splits["train"], splits["holdout"], splits["test"], portfolio,
                                      params.get("evaluate"), synthetic_is_holdout=model == REFERENCE,
                                      temperature=temperature)
        write_evaluation(reports, model, metrics, plot_data, splits["train"], portfolio)
        rows.append({"model": model, **metrics})
    for study, cfg in (params.get("studies") or {}).items():
        try:
            table, metrics = compare_studies(splits["train"], {name: other, REFERENCE: splits["holdout"]},
                                             cfg, temperature, study)
        except NoEstimate as e:
            print(f"acacia report: study {study} skipped: {e}", file=sys.stderr)
            continue
        write_study(reports, study, table, metrics, config(cfg, study)["confidence"])
        for row in rows:
            row[f"study.{study}.conclusions_preserved"] = metrics[f"{row['model']}.conclusions_preserved"]
    title = f"acacia report: {name} against {Path(real_dir).name}"
    return write_benchmark(reports, rows, params.get("compare"), title=title)
