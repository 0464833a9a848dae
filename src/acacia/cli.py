"""``acacia <stage> ...``: the entry point dvc.yaml calls for every stage."""

from __future__ import annotations

import argparse
import sys

from acacia.errors import AcaciaError

STAGES = {
    "simulate": "Simulate the default portfolio (data/raw/simulated).",
    "prepare": "Validate the selected dataset and split it by customer.",
    "train": "Fit one synthesizer: acacia train <model>.",
    "sample": "Draw a synthetic portfolio: acacia sample <model>.",
    "evaluate": "Score a synthetic portfolio: acacia evaluate <model>.",
    "compare": "Rank all evaluated models into reports/benchmark.md.",
    "usecase": "Run a use case on real and synthetic data: acacia usecase <name>.",
    "study": "Run post-hoc studies on real and synthetic data: acacia study <name>.",
    "release": "Package a synthetic portfolio with its data card: acacia release <model>.",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="acacia", description=__doc__)
    parser.add_argument("--params", default="params.yaml", help="params file (default params.yaml)")
    sub = parser.add_subparsers(dest="stage", required=True)
    for name, help_ in STAGES.items():
        p = sub.add_parser(name, help=help_)
        if name in ("train", "sample", "evaluate", "release"):
            p.add_argument("model", help="model name, a key of train.models in params.yaml")
        if name in ("usecase", "study"):
            p.add_argument("model", metavar="name", help="use case (heating_detection, financial_ease) or study (longitudinal)")
    args = parser.parse_args(argv)

    from acacia import stages

    try:
        run = getattr(stages, args.stage).run
        run(args.params, *([args.model] if hasattr(args, "model") else []))
    except AcaciaError as e:
        print(f"acacia {args.stage}: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
