"""Adult scored the way the TabSyn / TabDiff papers score it, beside their published rows.

Run by hand (never in the test suite), from the repository root:

    .venv/bin/python benchmarks/paper_comparison.py --models real_test independent \\
        gaussian_copula --time-cap 900
    .venv/bin/python benchmarks/paper_comparison.py --models tvae_variant --epochs 60 --patience 20 \\
        --batch-size 500 --time-cap 1500
    .venv/bin/python benchmarks/paper_comparison.py --models tabdiff --label paper_width \\
        --params '{"tabdiff": {"dim_t": 1024, "num_timesteps": 50}}'
    .venv/bin/python benchmarks/paper_comparison.py --render-only

Protocol (the papers'): train = adult.data (32,561 rows), test = adult.test (16,281 rows), loaded
by :func:`acacia.data.loaders.load_adult` from ``--adult`` (never copied into the repository);
each model is fitted on train and samples n = len(train) rows. Metrics, all on the customers'
columns (no id), computed by the project's evaluation modules:

- Shape / Trend error (%) = 100·(1 − mean column shape) and 100·(1 − mean pair trend),
  :mod:`acacia.evaluation.fidelity` with equal-width bins (sdmetrics' quality report), train vs
  synthetic;
- C2ST: :func:`~acacia.evaluation.detection.detection_score`, logistic regression on the
  standardised one-hot embedding, 3 folds (sdmetrics' ``LogisticDetection`` uses 3);
- α-precision / β-recall (%): :mod:`acacia.evaluation.quality` in the papers' geometry (one-hot
  + min-max scaling, synthcity's "naive" variant, the one the papers' scripts keep), train vs
  synthetic at full size; the standardised-embedding values are kept in the JSON too;
- MLE: AUC on the real test split of a LightGBM classifier of ``income`` trained on the synthetic
  rows (:func:`~acacia.evaluation.utility.tstr`; the papers tune an XGBoost classifier instead);
- DCR share (%): share of synthetic rows closer to a train row than to a test row
  (:func:`~acacia.evaluation.privacy.dcr_metrics`; Adult has no holdout split, so the test split
  is the unseen reference, both cut to 16,281 rows); 50 % is ideal.

Each model's result is cached in ``reports/paper_comparison/<model>.json`` (``<model>_<label>.json`` for a
run with ``--label``, a variant shown beside the plain run) and the report
``reports/paper_comparison.md`` is rendered from every JSON present, so a model added later
(ctgan_variant, tabdiff, ...) is one ``--models <name>`` run, without rerunning the others. The pseudo
model ``real_test`` scores the real test rows as if synthetic: the ceiling of the fidelity
columns (MLE and DCR are undefined for it and left empty).
"""

from __future__ import annotations

import argparse
import datetime as dt
import inspect
import json
import math
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "reports" / "paper_comparison"
REPORT = ROOT / "reports" / "paper_comparison.md"
DEFAULT_ADULT = "../shared/datasets/adult"
TARGET = "income"
REFERENCE = "real_test"
# Rendering order; models not listed come after, alphabetically. "tvae" and "ctgan": records cached
# before the registry named them tvae_variant and ctgan_variant.
ORDER = [REFERENCE, "independent", "gaussian_copula", "tvae_variant", "tvae", "ctgan_variant", "ctgan",
         "tabdiff", "causal_diff_tab"]

# Published Adult rows of the TabDiff paper (Shi et al., ICLR 2025, arXiv 2410.20626), in the
# papers' units: errors, C2ST score, α/β and DCR share in %, MLE as an AUC in [0, 1]. Each cell
# is the text of a retrieved table (mean ± std over the paper's 20 sampled tables), never
# recalled or estimated; None renders as "n/a". The paper's own tables could not be retrieved
# here: the cells come from two later papers that reprint its rows (PUBLISHED_SOURCE).
PUBLISHED_METRICS = ("shape_error", "trend_error", "c2st", "alpha_precision", "beta_recall",
                     "mle_auc", "dcr_share")
PUBLISHED: dict[str, dict[str, str | None]] = {
    "CTGAN": {"shape_error": "16.84 ± 0.03", "trend_error": "20.23 ± 1.20", "mle_auc": ".886 ± .002"},
    "TVAE": {"shape_error": "14.22 ± 0.08", "trend_error": "14.15 ± 0.88", "mle_auc": ".878 ± .004"},
    "TabSyn": {"shape_error": "0.81 ± 0.05", "trend_error": "1.93 ± 0.07", "alpha_precision": "99.39 ± 0.18",
               "beta_recall": "47.92 ± 0.23", "mle_auc": ".909 ± .001"},
    "TabDiff": {"shape_error": "0.63 ± 0.05", "trend_error": "1.49 ± 0.16", "alpha_precision": "99.02 ± 0.20",
                "beta_recall": "51.64 ± 0.20", "mle_auc": ".912 ± .002"},
}
PUBLISHED_SOURCE = (
    "the TabDiff paper's Adult rows (arXiv 2410.20626), read from two later papers that reprint "
    "them, since the stored copies of the paper itself hold only its abstract and introduction. "
    "Shape and Trend error rates and MLE AUC: TabDLM (arXiv 2602.22586v1, HTML), Tables 6, 7 and "
    "11 (real train rows: MLE .927 ± .000). α-precision and β-recall: Garg, Kohli & Sarawagi, "
    "\"Masked Diffusion Models are Secretly Learned-Order Autoregressive Models\" (arXiv "
    "2511.19152v1), Appendix C.1, Tables 6 and 7, printed there as fractions (0.9902 ± 0.0020) "
    "and \"taken from Shi et al. (2025b)\", the TabDiff paper. The two sources agree where they "
    "overlap (TabDiff's Shape 0.9937 = 0.63 % error, Trend 0.9851 = 1.49 %). C2ST and DCR of "
    "that paper were in neither source: n/a, not a guess. The papers' MLE tunes an XGBoost; ours "
    "is a fixed LightGBM, so read MLE against each side's own real-data line."
)


# ----------------------------------------------------------------------------- helpers
def _finite(v: Any) -> float | None:
    """JSON-safe float: None for missing, NaN or infinite values."""
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def hardware() -> dict[str, Any]:
    """What the timings were measured on; the load average matters on a shared machine."""
    import torch

    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                             capture_output=True, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def model_params(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """params.yaml's ``train.models.<name>`` (the project's defaults), then the CLI budget.

    ``--epochs`` / ``--patience`` / ``--batch-size`` go into the ``training`` section of models
    trained by :mod:`acacia.training.loop` (those whose constructor takes ``training``), with the
    progress bar off so logs stay readable; ``--params`` (JSON, per model) overrides anything.
    """
    from acacia.models.base import REGISTRY, _import_all
    from acacia.params import load_params

    _import_all()
    base: dict[str, Any] = {}
    params_file = ROOT / "params.yaml"
    if params_file.exists():
        section = (load_params(params_file).get("train") or {}).get("models") or {}
        base = dict(section.get(name) or {})
    base["seed"] = args.seed
    accepted = set(inspect.signature(REGISTRY[name].__init__).parameters)
    if "training" in accepted:
        training = dict(base.get("training") or {})
        for key, value in (("max_epochs", args.epochs), ("patience", args.patience),
                           ("batch_size", args.batch_size)):
            if value is not None:
                training[key] = value
        training["progress"] = False
        base["training"] = training
    overrides = json.loads(args.params).get(name, {}) if args.params else {}
    return _deep_merge(base, overrides)


# ----------------------------------------------------------------------------- metrics
def paper_metrics(
    train: pd.DataFrame,
    test: pd.DataFrame,
    syn: pd.DataFrame,
    kinds: dict[str, str],
    seed: int,
    reference: bool = False,
) -> dict[str, float | None]:
    """The papers' metrics for one synthetic table (fractions, not %; see the module docstring).

    ``reference``: ``syn`` is the real test split itself, for which MLE (trained and tested on
    the same rows) and DCR (test vs test) are meaningless and left None.
    """
    from acacia.evaluation.detection import balanced_sample, detection_score
    from acacia.evaluation.fidelity import column_pair_trends, column_shapes
    from acacia.evaluation.privacy import dcr_metrics
    from acacia.evaluation.quality import quality_scores
    from acacia.evaluation.utility import tstr

    m: dict[str, float | None] = {}
    # Equal sizes as in the papers (a no-op for the models, which sample len(train) rows; the
    # reference row has 16,281 test rows against 32,561 train rows).
    tr_eq, sy_eq = balanced_sample(train, syn, seed=seed)
    shapes = column_shapes(tr_eq, sy_eq, kinds)
    trends = column_pair_trends(tr_eq, sy_eq, kinds, binning="uniform")
    m["shape"] = float(np.mean(list(shapes.values())))
    m["trend"] = float(np.mean(list(trends.values())))
    det = detection_score(tr_eq, sy_eq, kinds, model="logistic", folds=3, seed=seed)
    m["c2st"], m["c2st_auc"] = det["score"], det["auc"]
    for scaling, suffix in (("minmax", ""), ("standard", "_standard")):
        q = quality_scores(tr_eq, sy_eq, kinds, scaling=scaling, seed=seed, max_rows=None)
        m[f"alpha_precision{suffix}"] = q["alpha_precision"]
        m[f"beta_recall{suffix}"] = q["beta_recall"]
    if reference:
        m.update(dict.fromkeys(("mle_auc", "mle_auc_real", "dcr_share", "exact_match_rate")))
    else:
        u = tstr(syn, train, test, TARGET, kinds, seed=seed)
        m["mle_auc"], m["mle_auc_real"] = u["tstr_auc"], u["trtr_auc"]
        priv, _ = dcr_metrics(train, test, syn, kinds, seed=seed)
        m["dcr_share"], m["exact_match_rate"] = priv["dcr_share"], priv["exact_match_rate"]
    m["n_train"], m["n_synthetic"] = float(len(train)), float(len(syn))
    return {k: _finite(v) for k, v in m.items()}


def run_model(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Fit, sample, score one model; the record written to ``<out-dir>/<name>.json``."""
    from acacia.data.loaders import load_adult
    from acacia.evaluation.features import analysis_table
    from acacia.models import make_model

    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    hw_start = hardware()
    train_p, test_p = load_adult(args.adult)
    train, kinds = analysis_table(train_p)
    test, _ = analysis_table(test_p)
    record: dict[str, Any] = {"model": name, "status": "ok", "started_utc": started,
                              "git_commit": git_commit(), "seed": args.seed}
    if args.label:
        record["label"] = args.label
    if name == REFERENCE:
        syn, params, timing, training = test, {}, {"fit_s": 0.0, "sample_s": 0.0}, None
    else:
        params = model_params(name, args)
        model = make_model(name, params)
        if model.fit_split != "train":
            raise SystemExit(f"{name}: fits on the '{model.fit_split}' split; Adult has train/test only")
        t = time.perf_counter()
        model.fit(train_p)
        fit_s = time.perf_counter() - t
        t = time.perf_counter()
        syn_p = model.sample(len(train), seed=args.seed + 1)
        sample_s = time.perf_counter() - t
        syn, _ = analysis_table(syn_p)
        timing = {"fit_s": round(fit_s, 1), "sample_s": round(sample_s, 1)}
        result = getattr(model, "training_result_", None)
        training = None if result is None else {
            "max_epochs": result.max_epochs, "stopped_epoch": result.stopped_epoch,
            "best_epoch": result.best_epoch, "best_val_loss": _finite(result.best_val_loss),
        }
    t = time.perf_counter()
    # One BLAS/OpenMP thread for the metrics, as evaluate() does (shared 2-core machines).
    with threadpool_limits(1):
        metrics = paper_metrics(train, test, syn, kinds, seed=args.seed, reference=name == REFERENCE)
    timing["evaluate_s"] = round(time.perf_counter() - t, 1)
    hw = {**hw_start, "load_avg_1m_end": round(os.getloadavg()[0], 2)}
    record.update(params=params, training=training, timing=timing, hardware=hw, metrics=metrics)
    return record


def write_record(record: dict[str, Any], out_dir: Path) -> Path:
    from acacia.data.schema import atomic_write_text

    stem = f"{record['model']}_{record['label']}" if record.get("label") else record["model"]
    path = out_dir / f"{stem}.json"
    atomic_write_text(path, json.dumps(record, indent=2, allow_nan=False) + "\n")
    return path


# ----------------------------------------------------------------------------- report
def _pct(v: float | None, error: bool = False) -> str:
    if v is None:
        return "n/a"
    return f"{100 * (1 - v) if error else 100 * v:.2f}"


def _num(v: float | None, digits: int) -> str:
    return "n/a" if v is None else f"{v:.{digits}f}"


def _sort_key(name: str) -> tuple[int, str]:
    return (ORDER.index(name), name) if name in ORDER else (len(ORDER), name)


def record_name(r: dict[str, Any]) -> str:
    """The model, and the variant's ``--label`` if the run had one: ``tabdiff (paper_width)``."""
    return f"{r['model']} ({r['label']})" if r.get("label") else r["model"]


def load_records(out_dir: Path) -> list[dict[str, Any]]:
    records = [json.loads(p.read_text()) for p in sorted(out_dir.glob("*.json"))]
    return sorted(records, key=lambda r: (*_sort_key(r["model"]), r.get("label") or ""))


def _budget(r: dict[str, Any]) -> str:
    if r["model"] == REFERENCE:
        return "none (real rows)"
    tr = r.get("training")
    if r.get("status") == "timeout":
        epochs = (r.get("params", {}).get("training") or {}).get("max_epochs")
        tried = f" ({epochs} epochs asked)" if epochs else ""
        return f"killed at the {r.get('time_cap_s'):.0f} s cap{tried}"
    if not tr:
        return "closed form (no epochs)"
    batch = (r.get("params", {}).get("training") or {}).get("batch_size", "default")
    return (f"{tr['stopped_epoch']} / {tr['max_epochs']} epochs (best {tr['best_epoch']}), "
            f"batch {batch}")


def render(records: list[dict[str, Any]]) -> str:
    """The markdown report from every cached record, plus the published rows."""
    ok = [r for r in records if r.get("status") == "ok"]
    hw = ok[0]["hardware"] if ok else hardware()
    lines = [
        "# Adult: our generators against the TabSyn / TabDiff protocol",
        "",
        "Generated by `.venv/bin/python benchmarks/paper_comparison.py` (see its docstring for the "
        "protocol); one cached JSON per model under `reports/paper_comparison/`, this file "
        "re-rendered from all of them with `--render-only`.",
        "",
        "Data: UCI Adult with the papers' split, train = `adult.data` (32,561 rows), test = "
        "`adult.test` (16,281 rows), read from `../shared/datasets/adult` (not copied here). Each "
        "model is fitted on train and samples as many rows as train.",
        "",
        "## Scores",
        "",
        "| Model | Source | Shape err. % ↓ | Trend err. % ↓ | C2ST % ↑ | α-precision % ↑ | "
        "β-recall % ↑ | MLE AUC ↑ | DCR share % (→ 50) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in records:
        if r.get("status") != "ok":
            lines.append(f"| {record_name(r)} | ours | {r.get('status')} | | | | | | |")
            continue
        m = r["metrics"]
        label = "real test rows (reference)" if r["model"] == REFERENCE else record_name(r)
        lines.append(
            f"| {label} | ours | {_pct(m['shape'], error=True)} | {_pct(m['trend'], error=True)} | "
            f"{_pct(m['c2st'])} | {_pct(m['alpha_precision'])} | {_pct(m['beta_recall'])} | "
            f"{_num(m['mle_auc'], 4)} | {_pct(m['dcr_share'])} |"
        )
    for name, p in PUBLISHED.items():
        cells = [p.get(k) or "n/a" for k in PUBLISHED_METRICS]
        lines.append(f"| {name} | TabDiff paper | " + " | ".join(cells) + " |")
    real_auc = next((r["metrics"]["mle_auc_real"] for r in ok if r["metrics"].get("mle_auc_real")), None)
    lines += [
        "",
        f"MLE of the same LightGBM trained on the real train rows (TRTR): {_num(real_auc, 4)}.",
        "",
        f"Published rows: {PUBLISHED_SOURCE}",
        "",
        "## Budget and cost",
        "",
        f"Hardware: {hw['cpu']}, {hw['cpu_count']} CPU cores shared with other jobs, GPU: "
        f"{hw['gpu'] or 'none'}; torch {hw['torch']} ({hw['torch_threads']} threads), Python "
        f"{hw['python']}. Wall times are seconds on that machine; the 1-minute load average at "
        "start / end of each run says how busy it was (2.0 = both cores taken).",
        "",
        "| Model | Training budget | Fit s | Sample s | Metrics s | Load avg | Run (UTC) | Commit |",
        "| --- | --- | ---: | ---: | ---: | --- | --- | --- |",
    ]
    for r in records:
        t, h = r.get("timing") or {}, r.get("hardware") or {}
        lines.append(
            f"| {record_name(r)} | {_budget(r)} | {t.get('fit_s', 'n/a')} | {t.get('sample_s', 'n/a')} | "
            f"{t.get('evaluate_s', 'n/a')} | {h.get('load_avg_1m', '?')} / "
            f"{h.get('load_avg_1m_end', '?')} | {r.get('started_utc', '')} | "
            f"{r.get('git_commit') or ''} |"
        )
    lines += [
        "",
        "## Same metrics, other views",
        "",
        "| Model | α-precision % (standardised) | β-recall % (standardised) | C2ST AUC | "
        "exact copies of train rows % |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for r in ok:
        m = r["metrics"]
        lines.append(
            f"| {record_name(r)} | {_pct(m['alpha_precision_standard'])} | "
            f"{_pct(m['beta_recall_standard'])} | {_num(m['c2st_auc'], 4)} | "
            f"{_pct(m['exact_match_rate'])} |"
        )
    lines += [
        "",
        "## How to read this",
        "",
        "- **Budget.** TabDiff's released training config runs 8,000 epochs at batch 4,096 on "
        "a GPU (`train.main.steps = 8000` in `tabdiff/configs/tabdiff_configs.toml`, which "
        "`tabdiff/trainer.py` loops over as epochs); the rows here were trained for the epochs "
        "shown above on a 2-core CPU shared with other jobs (fit times and load averages in "
        "the cost table: a load of 8 means each job got about a quarter of the CPU time). A gap "
        "to a published row is first a gap in compute, then in method; "
        "`independent` and `gaussian_copula` have no epochs at all and are there as floors.",
        "- **The reference row** (real test rows scored as if synthetic) is what a perfect "
        "generator scores with this much data: its shape/trend errors and C2ST are the noise "
        "floor of those metrics, not zero/one.",
        "- **β-recall ≈ 50 % is the ceiling of a generator that does not copy**: a real row's "
        "nearest neighbour among the other real rows and an equally large fresh sample is in the "
        "sample about half the time, so the reference row scores ≈ 50 %. Only copying training "
        "rows pushes it towards 100 %, which the DCR share and the exact-copy rate catch. "
        "α-precision of a faithful generator is ≈ 100 %.",
        "- **C2ST with logistic regression sees marginals only**: on one-hot + standardised "
        "columns a linear detector cannot see a lost dependence, so `independent` (exact "
        "marginals, no dependence) scores like real data there. The trend error, β-recall and "
        "MLE are the columns that catch it.",
        "- **α-precision / β-recall variant.** The papers call synthcity's `AlphaPrecision` and "
        "keep its *naive* keys (`delta_precision_alpha_naive`, `delta_coverage_beta_naive`, see "
        "`eval/eval_quality.py` in the TabSyn and TabDiff repositories), computed on numbers + "
        "one-hot categories min-max scaled on the real rows, centred on the real mean. The main "
        "table uses that geometry (`scaling=\"minmax\"` in `acacia.evaluation.quality`); the "
        "project's default standardised embedding is in the last table. The one-class (\"OC\") "
        "variant, which needs a trained network, is not implemented.",
        "- **Other deviations from the papers.** MLE uses LightGBM with fixed defaults (100 trees) "
        "where the papers tune XGBoost, so it reads against the TRTR line above rather than the "
        "papers' absolute AUCs. C2ST averages the fold AUCs before converting them to a score "
        "(sdmetrics converts per fold). DCR uses Euclidean distances in the standardised "
        "embedding, with the test split as the unseen reference cut to the same size as the "
        "train rows it is compared with (16,281). Missing values (`?` in the files) are a "
        "category of their own. Each row is one fit and one sampled table (TabDiff's report "
        "averages 20 sampled tables of one fit), so differences of a few tenths are noise.",
        *_variant_lines(ok),
        "",
    ]
    return "\n".join(lines)


def _flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        out.update(_flat(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
    return out


def _variant_lines(records: list[dict[str, Any]]) -> list[str]:
    """One bullet per labelled run: the params where it differs from the same model's plain run."""
    plain = {r["model"]: _flat(r.get("params") or {}) for r in records if not r.get("label")}
    lines = []
    for r in records:
        if not r.get("label") or r["model"] not in plain:
            continue
        base, mine = plain[r["model"]], _flat(r.get("params") or {})
        diff = [f"`{k}` {mine.get(k, 'unset')} (plain run: {base.get(k, 'unset')})"
                for k in sorted(set(base) | set(mine)) if base.get(k) != mine.get(k)]
        lines.append(f"- **Variant `{record_name(r)}`**: {', '.join(diff) or 'the same params'}.")
    return lines


# ----------------------------------------------------------------------------- CLI
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=["independent", "gaussian_copula", "tvae_variant"],
                    help=f"registered model names, or '{REFERENCE}' for the real-test reference")
    ap.add_argument("--adult", default=DEFAULT_ADULT,
                    help="folder with adult.data.csv and adult.test.csv (relative to the repo root)")
    ap.add_argument("--epochs", type=int, default=None, help="training.max_epochs of trained models")
    ap.add_argument("--patience", type=int, default=None, help="training.patience of trained models")
    ap.add_argument("--batch-size", type=int, default=None, help="training.batch_size of trained models")
    ap.add_argument("--params", default=None,
                    help='per-model overrides as JSON, e.g. \'{"tvae_variant": {"latent_dim": 64}}\'')
    ap.add_argument("--time-cap", type=float, default=None,
                    help="seconds per model (fit + sample + metrics); each model then runs in a "
                         "child process that is killed at the cap and recorded as 'timeout'")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out-dir", type=Path, default=OUT_DIR)
    ap.add_argument("--report", type=Path, default=REPORT)
    ap.add_argument("--label", default=None,
                    help="a variant's name (e.g. other params): its record is <model>_<label>.json and "
                         "its row 'model (label)', beside the default run's")
    ap.add_argument("--render-only", action="store_true", help="only rebuild the markdown")
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)  # child process mode
    args = ap.parse_args(argv)
    if args.label is not None and not re.fullmatch(r"[A-Za-z0-9_-]+", args.label):
        ap.error(f"--label: {args.label!r}, expected letters, digits, '_' or '-' (it names a file)")
    adult = Path(args.adult).expanduser()
    args.adult = adult if adult.is_absolute() else ROOT / adult
    return args


def _child_argv(name: str, args: argparse.Namespace) -> list[str]:
    argv = [sys.executable, str(Path(__file__).resolve()), "--one", name, "--adult", str(args.adult),
            "--seed", str(args.seed), "--out-dir", str(args.out_dir)]
    for flag, value in (("--epochs", args.epochs), ("--patience", args.patience),
                        ("--batch-size", args.batch_size), ("--params", args.params), ("--label", args.label)):
        if value is not None:
            argv += [flag, str(value)]
    return argv


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.one:
        path = write_record(run_model(args.one, args), args.out_dir)
        print(f"wrote {path}", flush=True)
        return
    if not args.render_only:
        for name in args.models:
            print(f"== {name}", flush=True)
            if args.time_cap is None:
                write_record(run_model(name, args), args.out_dir)
                continue
            started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            try:
                subprocess.run(_child_argv(name, args), check=True, timeout=args.time_cap)
            except subprocess.TimeoutExpired:
                # The child was killed before writing its JSON: record the attempt, so the report
                # shows the model did not fit in the budget instead of silently omitting it.
                params = {} if name == REFERENCE else model_params(name, args)
                write_record({"model": name, **({"label": args.label} if args.label else {}),
                              "status": "timeout", "time_cap_s": args.time_cap,
                              "started_utc": started, "params": params, "hardware": hardware()},
                             args.out_dir)
    from acacia.data.schema import atomic_write_text

    atomic_write_text(args.report, render(load_records(args.out_dir)))
    print(f"wrote {args.report}", flush=True)


if __name__ == "__main__":
    main()
