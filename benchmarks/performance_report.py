"""Render reports/performance.md from the per-(model, size, device) JSON records that
benchmarks/performance.py writes under reports/performance/.

Kept apart from the runner and free of heavy imports, so the report can be re-rendered (and
tested) without torch; any set of records renders, so sizes and models can be added later.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

Record = dict[str, Any]


def scaling_exponent(sizes: list[float], values: list[float]) -> float | None:
    """b of the least-squares fit log(value) = a + b·log(size); None below two usable points.

    Points whose value is missing or not positive are left out (a log needs a positive number)."""
    pts = [(s, v) for s, v in zip(sizes, values, strict=True)
           if v is not None and s > 0 and v > 0 and math.isfinite(v)]
    if len({s for s, _ in pts}) < 2:
        return None
    x = np.log([s for s, _ in pts])
    y = np.log([v for _, v in pts])
    return float(np.polyfit(x, y, 1)[0])


def load_records(folder: str | Path) -> list[Record]:
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no performance records (run benchmarks/performance.py first)")
    records = []
    for path in sorted(folder.glob("*.json")):
        try:
            records.append(json.loads(path.read_text()))
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: not a JSON performance record ({e})") from e
    return records


def _fmt(v: float | None) -> str:
    if v is None:
        return "–"
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 1:
        return f"{v:.3g}" if a < 100 else f"{v:.0f}"
    return f"{v:.2g}"


def _size_label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return f"{n:,}"


def _failure(r: Record) -> str | None:
    """The cell text of a run that did not finish the quantity's phase, or None."""
    if r.get("status") == "ok":
        return None
    return f"{r.get('status', '?')} after {r.get('phase', '?')}"


# (title, explanation, value of a record or None, whether the exponent is of 1/value)
Quantity = tuple[str, str, Callable[[Record], float | None], bool]


def _get(*keys: str) -> Callable[[Record], float | None]:
    def read(r: Record) -> float | None:
        v: Any = r
        for k in keys:
            if not isinstance(v, dict) or v.get(k) is None:
                return None
            v = v[k]
        return float(v)
    return read


QUANTITIES: list[Quantity] = [
    ("Preparation (s)",
     "codec and transform fits plus the encoding of the train split: the wall time of the K-step "
     "`fit` less its optimiser steps and validation passes (so the loop's own set-up is in: moving "
     "the data to the device, building the optimiser; TabSyn: also the VAE encoding of the latents "
     "between its two phases). Closed-form models: see the next table.",
     _get("preparation_seconds"), False),
    ("Training, one epoch (s), extrapolated from K steps",
     "K optimiser steps timed in the shared training loop (the first step left out: one-off set-up), "
     "scaled to one epoch of ⌈n_train / batch_size⌉ steps, plus the validation pass timed in the same "
     "run. TabSyn: one VAE epoch plus one diffusion epoch. Closed-form models: their whole fit time.",
     _get("epoch_seconds"), False),
    ("Training, one full epoch measured (s)",
     "a fresh fit with `max_epochs: 1` in the same process, where the size allows: all its optimiser "
     "steps and its validation pass; compare with the extrapolation above.",
     _get("full_epoch", "seconds"), False),
    ("Training to early stop (s), PROJECTED",
     "a projection, not a measurement: the epochs the pipeline's own run took to early-stop "
     "(`stopped_epoch` of reports/train/<model>.json, trained on its own split, see the last table) × "
     "the per-epoch time above; at larger sizes early stopping may come after fewer epochs.",
     _get("to_early_stop", "projected_seconds"), False),
    ("Sampling throughput (customers/s, with their series)",
     "`acacia.sampling.sample_to_parquet` (chunked, every chunk validated, Parquet written); the "
     "exponent is that of the time per customer.",
     _get("sampling", "customers_per_second"), True),
    ("Evaluation (s)",
     "`acacia.evaluation.evaluate` with the `evaluate` section of params.yaml, real train split vs "
     "the sampled customers (compared at the same size), up to the evaluation size cap.",
     _get("evaluation", "seconds"), False),
    ("Evaluation peak resident memory (MiB)",
     "peak RSS of the evaluation alone, the count restarted after sampling: loading the real splits "
     "and the synthetic customers (series straight into customers × periods matrices, as the "
     "evaluate stage loads them) and every metric.",
     _get("evaluation", "peak_rss_mib"), False),
    ("Energy, K training steps + sampling (kWh)",
     "codecarbon offline tracker (France) around the K-step fit (preparation included) and the "
     "sampling; on a CPU it is estimated from the processor's power and the process's load.",
     lambda r: _sum(r, "energy_kwh"), False),
    ("Emissions, K training steps + sampling (kg CO2eq)",
     "the same runs, at France's grid carbon intensity.",
     lambda r: _sum(r, "emissions_kg"), False),
    ("Peak resident memory (MiB)",
     "`ru_maxrss` of the run's own process (loading the splits, fit, sampling and evaluation).",
     _get("peak_rss_mib"), False),
]


def _sum(r: Record, key: str) -> float | None:
    parts = [r.get("training_energy", {}).get(key), r.get("sampling", {}).get(key)]
    parts = [p for p in parts if p is not None]
    return float(sum(parts)) if parts else None


def _table(records: list[Record], sizes: list[int], quantity: Quantity) -> list[str]:
    title, why, value, inverse = quantity
    lines = [f"### {title}", "", why, "",
             "| model | " + " | ".join(_size_label(s) for s in sizes) + " | b |",
             "| --- | " + " | ".join("---:" for _ in sizes) + " | ---: |"]
    for model in sorted({r["model"] for r in records}):
        by_size = {r["size"]: r for r in records if r["model"] == model}
        cells, xs, ys = [], [], []
        for s in sizes:
            r = by_size.get(s)
            v = value(r) if r is not None else None
            if r is None:
                cells.append("")
            elif v is None:
                cells.append(_failure(r) or "–")
            else:
                cells.append(_fmt(v))
                xs.append(s)
                ys.append(1 / v if inverse and v > 0 else v)
        b = scaling_exponent(xs, ys)
        if any(c for c in cells):
            lines.append(f"| {model} | " + " | ".join(cells) + f" | {'–' if b is None else f'{b:.2f}'} |")
    return lines + [""]


def _machine(records: list[Record]) -> list[str]:
    """The machine of the runs: each setting's most common value, and the runs where it differed
    (a run given two threads must not read as a one-thread run)."""
    keys = list(dict.fromkeys(k for r in records for k in r.get("machine", {})))
    lines = []
    for k in keys:
        values = [str(r.get("machine", {}).get(k, "–")) for r in records]
        common = max(dict.fromkeys(values), key=values.count)
        odd = [f"{r['model']} {_size_label(r['size'])}: {v}" for r, v in zip(records, values, strict=True) if v != common]
        lines.append(f"- {k}: {common}" + (f" (except {', '.join(odd)})" if odd else ""))
    return lines


def render(records: list[Record], command: str | None = None) -> str:
    """The whole report; one section per device, one table per quantity."""
    lines = ["# Performance at scale", ""]
    # Each record names the command that measured it (older ones may not): the report is built
    # from runs of several commands, e.g. one for the small sizes and one for 1M.
    runs: dict[str, set[int]] = {}
    for r in records:
        if r.get("command"):
            runs.setdefault(r["command"], set()).add(int(r["size"]))
    if runs:
        lines += ["Measured with:", ""]
        lines += [f"- `{c}` (sizes {', '.join(f'{s:,}' for s in sorted(sizes))})" for c, sizes in runs.items()]
        lines += [""]
    elif command:
        lines += [f"Measured with `{command}`.", ""]
    lines += [
        "Each (model, size) ran in a fresh process (its own peak memory; killed at the time cap and "
        "shown as `timeout after <last phase done>`) on a simulated portfolio of that many customers (weekly series), "
        "split like the pipeline (train 0.4 / holdout 0.4 / test 0.2), each model with its own "
        "`train.models` parameters of params.yaml. Columns are portfolio sizes; the model trains on "
        "the train split (0.4 of them). **b** is the scaling exponent: the slope of the least-squares "
        "fit log(value) = a + b·log(size) over the sizes measured (1 = linear).",
        "",
    ]
    if not records:
        return "\n".join(lines + ["No records yet."]) + "\n"
    for device in sorted({r.get("device", "cpu") for r in records}):
        recs = [r for r in records if r.get("device", "cpu") == device]
        sizes = sorted({r["size"] for r in recs})
        steps = sorted({r.get("train_steps") for r in recs if r.get("train_steps")})
        lines += [f"## Device: {device}", "", "Machine:", "", *_machine(recs), "",
                  f"K (optimiser steps timed per phase): {', '.join(map(str, steps)) or '–'}.", ""]
        for q in QUANTITIES:
            lines += _table(recs, sizes, q)
        lines += _families(recs)
        lines += _runs(recs)
    return "\n".join(lines) + "\n"


def _families(recs: list[Record]) -> list[str]:
    """Where the evaluation's time goes (the evaluate stage's ``timings`` plot table), for the
    runs that recorded it: which metric family grows fastest with the portfolio."""
    runs = sorted((r for r in recs if r.get("evaluation", {}).get("families")), key=lambda r: (r["model"], r["size"]))
    if not runs:
        return []
    families = list(dict.fromkeys(f for r in runs for f in r["evaluation"]["families"]))
    lines = ["### Evaluation time by metric family (s)", "",
             "The evaluation's own clock per metric family (`timings`, as in experiments/2026-12-scale/evaluate_scale.md), "
             "for the runs that recorded it; loading the portfolios is not in it.", "",
             "| family | " + " | ".join(f"{r['model']} {_size_label(r['size'])}" for r in runs) + " |",
             "| --- | " + " | ".join("---:" for _ in runs) + " |"]
    for f in families:
        lines.append(f"| {f} | " + " | ".join(_fmt(r["evaluation"]["families"].get(f)) if f in r["evaluation"]["families"]
                                              else "" for r in runs) + " |")
    return lines + [""]


def _runs(recs: list[Record]) -> list[str]:
    lines = ["### Runs", "",
             "Sampled and evaluated counts, load average (1 min) at the start and end of each run, "
             "and the train record the early-stop projection used.", "",
             "| model | size | status | wall (s) | sampled | evaluated | load start | load end "
             "| stopped epoch (record, n_fit) |",
             "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in sorted(recs, key=lambda r: (r["model"], r["size"])):
        stop = r.get("to_early_stop") or {}
        rec = f"{stop['stopped_epoch']} ({stop.get('n_fit', '?'):,})" if stop.get("stopped_epoch") else "–"
        lines.append(
            f"| {r['model']} | {r['size']:,} | {r.get('status')} | {_fmt(r.get('wall_seconds'))} "
            f"| {r.get('sampling', {}).get('n', '–')} | {r.get('evaluation', {}).get('n_compared', '–')} "
            f"| {_fmt(r.get('load_start'))} | {_fmt(r.get('load_end'))} | {rec} |")
    return lines + [""]
