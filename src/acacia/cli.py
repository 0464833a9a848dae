"""``acacia <stage> ...``: the entry point dvc.yaml calls for every stage, and two tools that need
no pipeline: ``acacia schema infer`` (draft a schema for your files) and ``acacia report`` (the
benchmark's page for two portfolios on disk)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from acacia.errors import AcaciaError

STAGES = {
    "simulate": "Simulate a portfolio of params.yaml's simulate section: acacia simulate <name>.",
    "prepare": "Validate the selected dataset and split it by customer.",
    "train": "Fit one synthesizer: acacia train <model>.",
    "sample": "Draw a synthetic portfolio: acacia sample <model>.",
    "evaluate": "Score a synthetic portfolio: acacia evaluate <model>.",
    "compare": "Rank all evaluated models into reports/benchmark.md.",
    "usecase": "Run a declared use case on real and synthetic data: acacia usecase <name>.",
    "study": "Run a declared study on real and synthetic data: acacia study <name>.",
    "release": "Package a synthetic portfolio with its data card: acacia release <model>.",
}
NAMED_BY = {"train": "train.models", "sample": "train.models", "evaluate": "train.models",
            "release": "train.models", "usecase": "usecases", "study": "studies"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="acacia", description=__doc__)
    parser.add_argument("--params", default="params.yaml", help="params file (default params.yaml)")
    sub = parser.add_subparsers(dest="stage", required=True)
    for name, help_ in STAGES.items():
        p = sub.add_parser(name, help=help_)
        if name in NAMED_BY:
            p.add_argument("name", help=f"a key of {NAMED_BY[name]} in params.yaml")
        if name == "simulate":
            p.add_argument("name", nargs="?", default="simulated",
                           help="a key of simulate in params.yaml (default: simulated)")
    schema = sub.add_parser("schema", help="Draft a schema YAML for your own files: acacia schema infer ...")
    infer = schema.add_subparsers(dest="action", required=True).add_parser(
        "infer", help="kinds, nullability, bounds and the series grid, read off the files")
    infer.add_argument("customers", help="customers file (CSV or Parquet)")
    infer.add_argument("consumption", nargs="?", help="long consumption file (CSV or Parquet)")
    infer.add_argument("--id", dest="id_column", help="the customers' id column (default: guessed)")
    infer.add_argument("--target", action="append", default=[], help="mark a column as a use-case target")
    infer.add_argument("--out", help="write the YAML here (default: standard output)")
    report = sub.add_parser("report", help="Benchmark page for two portfolios on disk: acacia report REAL OTHER --out DIR")
    report.add_argument("real", help="folder of the real portfolio (customers, consumption, schema)")
    report.add_argument("other", help="folder of the portfolio compared with it (synthetic, or another real one)")
    report.add_argument("--out", required=True, help="folder to write the report into")
    report.add_argument("--schema", help="schema file (default: REAL's own schema file, else inferred)")
    report.add_argument("--unseen", help="folder of real customers OTHER was not generated from (privacy)")
    report.add_argument("--name", help="the compared portfolio's name in the report (default: its folder's)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.stage == "schema":
            _schema_infer(args)
        elif args.stage == "report":
            _report(args)
        else:
            import importlib

            stage = importlib.import_module(f"acacia.stages.{args.stage}")
            stage.run(args.params, *([args.name] if hasattr(args, "name") else []))
    except AcaciaError as e:
        print(f"acacia {args.stage}: error: {e}", file=sys.stderr)
        return 2
    return 0


def _schema_infer(args: argparse.Namespace) -> None:
    from acacia.data.infer import draft_yaml, infer_schema_from_files
    from acacia.data.schema import atomic_write_text

    schema = infer_schema_from_files(args.customers, args.consumption, args.id_column)
    unknown = [t for t in args.target if t not in schema.names]
    if unknown:
        raise AcaciaError(f"--target {unknown}: not a column of {args.customers} ({schema.names})")
    for c in schema.columns:
        c.target = c.name in args.target
    text = draft_yaml(schema, [str(p) for p in (args.customers, args.consumption) if p])
    if args.out:
        atomic_write_text(args.out, text)
        print(f"acacia schema infer: wrote {args.out}; check it before use", file=sys.stderr)
    else:
        sys.stdout.write(text)


def _report(args: argparse.Namespace) -> None:
    from acacia.data.schema import Schema
    from acacia.params import load_params
    from acacia.report import compare_portfolios

    params = load_params(args.params) if Path(args.params).exists() or args.params != "params.yaml" else {}
    schema = Schema.load(args.schema) if args.schema else None
    table = compare_portfolios(args.real, args.other, args.out, params, schema, args.unseen, args.name)
    print(f"acacia report: {Path(args.out) / 'index.html'} ({len(table)} rows)", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
