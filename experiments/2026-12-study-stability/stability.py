"""How often does a *perfect* generator keep each study conclusion? → stability.md

    .venv/bin/python experiments/2026-12-study-stability/stability.py [--draws 40]

Run from the project root after ``dvc repro`` (it reads data/processed). A perfect generator
draws customers from the same population as the real train split. Two stand-ins for one:

- ``train resample``: the train split's customers drawn with replacement (as many as the split);
  the real estimate is the centre of these draws, so an estimate whose real interval barely
  excludes its null value is kept about half of the time;
- ``holdout resample``: the holdout's customers (no model saw them, the same population) drawn
  with replacement to the train split's size: the spread a fresh sample of the population has.

Each resample goes through the declared studies exactly as a synthetic portfolio does
(``compare_studies``: interval overlap and the same three-way sign), against the real train
split. The share of draws keeping an estimate is the best any generator can expect on it; the
mean share over estimates is the expected ``conclusions_preserved`` of a perfect generator.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from acacia.data.ids import make_ids  # noqa: E402
from acacia.data.portfolio import MatrixPortfolio, Portfolio  # noqa: E402
from acacia.data.schema import atomic_write_text  # noqa: E402
from acacia.params import load_params  # noqa: E402
from acacia.paths import CALENDAR_FILE, PROCESSED, TEMPERATURE_FILE  # noqa: E402
from acacia.usecases.studies import compare_studies  # noqa: E402

HERE = Path(__file__).resolve().parent
Z95 = 1.959964


def resample(p: Portfolio, n: int, rng: np.random.Generator, tag: str) -> MatrixPortfolio:
    """``n`` customers of ``p`` drawn with replacement, each copy with an id of its own."""
    rows = rng.integers(0, len(p), n)
    customers = p.customers.iloc[rows].reset_index(drop=True)
    idc = p.schema.id_column
    customers[idc] = make_ids(tag, 0, n).to_numpy()
    return MatrixPortfolio(customers, p.series_matrix()[rows], p.schema)


def main(draws: int, seed: int) -> Path:
    params = load_params(str(ROOT / "params.yaml"))
    train = Portfolio.load(ROOT / PROCESSED / "train", as_matrix=True)
    holdout = Portfolio.load(ROOT / PROCESSED / "holdout", as_matrix=True)
    temperature = pd.read_parquet(ROOT / PROCESSED / TEMPERATURE_FILE) if (ROOT / PROCESSED / TEMPERATURE_FILE).is_file() else None
    calendar = pd.read_parquet(ROOT / PROCESSED / CALENDAR_FILE) if (ROOT / PROCESSED / CALENDAR_FILE).is_file() else None
    rng = np.random.default_rng(seed)
    sources = {}
    for b in range(draws):
        sources[f"train#{b}"] = resample(train, len(train), rng, f"t{b}_")
        sources[f"holdout#{b}"] = resample(holdout, len(train), rng, f"h{b}_")
    sections = []
    start = time.perf_counter()
    for name, cfg in (params.get("studies") or {}).items():
        table, _ = compare_studies(train, sources, cfg, temperature, name, calendar)
        real = table[table["source"] == "real"].set_index("estimate")
        syn = table[table["source"] != "real"].copy()
        syn["kind"] = syn["source"].str.split("#").str[0]
        kept = syn.pivot_table(index="estimate", columns="kind", values="preserved", aggfunc="mean")
        per_draw = syn.groupby("source")["preserved"].mean()
        rows = []
        for est in real.index:
            r = real.loc[est]
            se = (r["hi"] - r["lo"]) / (2 * Z95)
            rows.append(f"| {est} | {r['value']:.3g} [{r['lo']:.3g}, {r['hi']:.3g}] | {r['value'] / se:+.1f} | "
                        f"{kept.loc[est, 'train']:.2f} | {kept.loc[est, 'holdout']:.2f} |")
        summary = []
        for kind in ("train", "holdout"):
            v = per_draw[per_draw.index.str.startswith(kind + "#")]
            summary.append(f"- {kind} resample: conclusions preserved {v.mean():.3f} ± {v.std(ddof=1):.3f} "
                           f"[{v.min():.3f}, {v.max():.3f}] over {len(v)} draws; every conclusion kept in "
                           f"{(v == 1).mean():.0%} of them")
        sections += [f"## {name}", "", *summary, "",
                     "| estimate | real (train split) | z = estimate / se | kept, train resample | kept, holdout resample |",
                     "| --- | --- | ---: | ---: | ---: |", *rows, ""]
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    head = [
        "# Study conclusions a perfect generator keeps",
        "",
        f"Produced by `experiments/2026-12-study-stability/stability.py --draws {draws}` (its docstring) at "
        f"{commit}, {time.strftime('%Y-%m-%d')}, in {time.perf_counter() - start:.0f} s. Each draw is a "
        "resample of real customers scored by the declared studies as a synthetic portfolio is; "
        "`kept`: the share of draws whose conclusion matches the real train split's (interval overlap "
        "and the same sign: above, below or around the null value). `z`: the real estimate over its "
        "standard error; an estimate near |z| = 2 sits on the significance boundary, so any faithful "
        "portfolio of the same size flips its sign conclusion often.",
        "",
    ]
    out = HERE / "stability.md"
    atomic_write_text(out, "\n".join(head + sections))
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--draws", type=int, default=40, help="resamples of each kind")
    ap.add_argument("--seed", type=int, default=0)
    print(main(**vars(ap.parse_args())))
