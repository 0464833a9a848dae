"""Post-hoc studies declared in params.yaml from generic blocks, run with the same code on the
real portfolio and on each synthetic one (docs/studies.md).

A study (``studies.<name>``) is a mapping of *families* to lists of blocks; each block yields one
or more estimates with a normal-approximation confidence interval over customers
(``confidence``, 95 % by default):

- ``level``: the mean of a per-customer measure in each level of a column (``by``);
- ``contrast``: the difference of that mean between each level and a ``reference`` level
  (Welch standard errors);
- ``slope``: the OLS slope of a per-customer measure on a numeric column (``x``);
- ``thermosensitivity``: the mean, per level of ``by``, of each customer's OLS slope of kWh on
  the heating degree days of his climate zone (needs a temperature table);
- ``ratio``: mean consumption in the periods of one calendar selection over another (seasons,
  weekends, holidays), a ratio estimator over customers, optionally per level of ``by``;
- ``event``: the relative change of consumption in an event ``window`` (a lockdown) or on the
  days a ``calendar`` column flags (Tempo red days), optionally per level of ``by``: each
  customer's kWh regressed on an intercept, degree days at several bases (with a temperature
  table), an annual harmonic and the share of each period's days in the window, periods of the
  ``exclude`` windows left out; the ratio of the summed window coefficients to the summed
  weather-normal consumption of the window, its interval by the delta method;
- ``did``: a difference-in-differences: each customer's change in log mean kWh from the ``pre``
  to the ``post`` windows, ``treated`` customers minus the others (or ``control``).

Measures (per customer, over his observed periods): ``mean_kwh`` (per period), ``daily_kwh``,
``annual_kwh``, ``winter_summer``, ``cv``, ``acf1`` (``evaluation/features.py``).

Only the levels the *real* portfolio supports are estimated (at least ``min_customers``
customers); a synthetic portfolio that cannot produce one (a level it dropped) fails it. A block
whose columns, temperature table or series frequency the portfolio lacks is skipped with one
printed line, never a failure.

A portfolio *reaches the same conclusion* on an estimate when its interval overlaps the real one
and the two conclusions have the same sign: above, below or around the estimate's null value
(0 for differences, slopes and relative changes, 1 for plain ratios). ``conclusions_preserved``
is the share of estimates where it does; it feeds the utility pillar of the meta-metric.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from acacia.data.portfolio import Portfolio
from acacia.data.schema import atomic_write_text
from acacia.errors import DataError, ParamsError
from acacia.evaluation.events import event_terms, parse_windows, window_share
from acacia.evaluation.features import NULL_LABEL, labels, series_features_from_matrix
from acacia.evaluation.series import HDD_BASE_C, degree_days, thermosensitivity
from acacia.paths import Reports, write_json
from acacia.transforms.responses import period_mean
from acacia.usecases.common import check_keys, mean_ci

REAL = "real"
COLUMNS = ["study", "estimate", "unit", "source", "value", "lo", "hi", "n", "sign"]
STUDY_DEFAULTS: dict[str, Any] = {
    "confidence": 0.95,
    "min_customers": 30,  # levels with fewer real customers are not studied
    "zone_column": None,  # the customers' column matching the temperature table's climate_zone
    "estimates": {},
}
#: measure -> (column of series_features_from_matrix, unit)
MEASURES = {
    "mean_kwh": ("series_mean_kwh", "kWh per period"),
    "daily_kwh": ("series_mean_kwh", "kWh per day"),
    "annual_kwh": ("series_annual_kwh", "kWh per year"),
    "winter_summer": ("series_winter_summer", "ratio"),
    "cv": ("series_cv", "coefficient of variation"),
    "acf1": ("series_acf1", "autocorrelation"),
}
DAYS_PER_PERIOD = {"weekly": 7.0, "daily": 1.0}
#: block type -> (required keys, optional keys with defaults)
BLOCKS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "level": (("by",), {"measure": "daily_kwh", "unit": None}),
    "contrast": (("by", "reference"), {"measure": "annual_kwh", "unit": None}),
    "slope": (("x",), {"measure": "annual_kwh", "unit": None}),
    "thermosensitivity": (("by",), {"zone_column": None, "unit": "kWh per degree-day"}),
    "ratio": (("name", "numerator", "denominator"), {"by": None, "minus_one": False, "unit": None}),
    # A single 18 °C base reads the spring weather of electrically heated homes as a large
    # spurious lockdown effect on the simulated portfolio; several bases (a piecewise-linear
    # response, homes heat below their own threshold) bring it close to the truth.
    # ``window`` (dates) or ``calendar`` (a column of the calendar table: Tempo red days) says
    # which days the event covers; ``by`` estimates it per level (the tariff option).
    "event": (("name",), {"window": None, "calendar": None, "by": None, "exclude": [],
                          "degree_day_bases": [HDD_BASE_C], "zone_column": None, "unit": "relative change"}),
    "did": (("name", "treated", "pre", "post"), {"control": None, "unit": "change in log kWh"}),
}
SELECTOR_KEYS = ("months", "weekdays", "windows", "dates")


class NoEstimate(DataError):
    """The real portfolio supports none of a study's estimates: the study is not applicable."""


@dataclass
class Block:
    family: str
    type: str
    where: str  # its params path, for messages
    args: dict[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------------------- configuration
def config(cfg: dict[str, Any] | None, name: str = "study") -> dict[str, Any]:
    """The study ``studies.<name>`` checked: blocks parsed, dates read; errors name the key."""
    section = f"studies.{name}"
    c = check_keys(cfg, STUDY_DEFAULTS, section)
    if not isinstance(c["confidence"], float | int) or not 0 < c["confidence"] < 1:
        raise ParamsError(f"{section}.confidence: expected a number in (0, 1), got {c['confidence']!r}")
    if not isinstance(c["min_customers"], int) or c["min_customers"] < 2:
        raise ParamsError(f"{section}.min_customers: expected an integer ≥ 2, got {c['min_customers']!r}")
    families = c["estimates"]
    if not isinstance(families, dict) or not families:
        raise ParamsError(f"{section}.estimates: expected a mapping of families to lists of blocks, "
                          f"e.g. {{levels: [{{type: level, by: Acorn_grouped}}]}}, got {families!r}")
    blocks = []
    for family, items in families.items():
        items = items if isinstance(items, list) else [items]
        for i, item in enumerate(items):
            blocks.append(_block(str(family), item, f"{section}.estimates.{family}[{i}]", c))
    c["blocks"] = blocks
    return c


def _block(family: str, item: Any, where: str, study: dict[str, Any]) -> Block:
    if not isinstance(item, dict) or item.get("type") not in BLOCKS:
        got = item.get("type") if isinstance(item, dict) else item
        raise ParamsError(f"{where}.type: expected one of {sorted(BLOCKS)}, got {got!r}")
    kind = item["type"]
    required, optional = BLOCKS[kind]
    args = {k: v for k, v in item.items() if k != "type"}
    missing = [k for k in required if k not in args]
    unknown = set(args) - set(required) - set(optional)
    if missing or unknown:
        raise ParamsError(f"{where} ({kind}): missing key(s) {missing}, unknown key(s) {sorted(unknown)}; "
                          f"expected {list(required)} and optionally {sorted(optional)}")
    args = {**optional, **args}
    if "measure" in args and args["measure"] not in MEASURES:
        raise ParamsError(f"{where}.measure: expected one of {sorted(MEASURES)}, got {args['measure']!r}")
    if kind in ("thermosensitivity", "event") and args["zone_column"] is None:
        args["zone_column"] = study["zone_column"]
    if kind == "ratio":
        args["numerator"] = _selector(args["numerator"], f"{where}.numerator")
        args["denominator"] = _selector(args["denominator"], f"{where}.denominator")
    if kind == "event":
        if (args["window"] is None) == (args["calendar"] is None):
            raise ParamsError(f"{where}: give either a window ([start, end]) or a calendar column, not "
                              f"{'both' if args['window'] is not None else 'neither'}")
        if args["window"] is not None:
            args["window"] = _window(args["window"], f"{where}.window")
        args["exclude"] = _windows(args["exclude"], f"{where}.exclude")
        bases = args["degree_day_bases"]
        if not isinstance(bases, list) or not bases or not all(_is_number(x) for x in bases):
            raise ParamsError(f"{where}.degree_day_bases: expected a list of temperatures (°C), got {bases!r}")
    if kind == "did":
        for key in ("pre", "post"):
            args[key] = _windows(args[key], f"{where}.{key}")
        for key in ("treated", "control"):
            v = args[key]
            if v is not None and (not isinstance(v, dict) or len(v) != 1):
                raise ParamsError(f"{where}.{key}: expected one {{column: value}}, got {v!r}")
    return Block(family, kind, where, args)


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _window(w: Any, where: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    return parse_windows([w], where)[0]


def _windows(ws: Any, where: str) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    if not isinstance(ws, list):
        raise ParamsError(f"{where}: expected a list of [start, end] dates, got {ws!r}")
    return parse_windows(ws, where) if ws else []


def _selector(sel: Any, where: str) -> dict[str, Any]:
    if not isinstance(sel, dict) or not sel or set(sel) - set(SELECTOR_KEYS):
        raise ParamsError(f"{where}: expected a mapping with some of {list(SELECTOR_KEYS)}, got {sel!r}")
    out: dict[str, Any] = {}
    for key, lo, hi in (("months", 1, 12), ("weekdays", 0, 6)):
        if key in sel:
            v = sel[key]
            if not isinstance(v, list) or not all(isinstance(x, int) and lo <= x <= hi for x in v):
                raise ParamsError(f"{where}.{key}: expected a list of integers in [{lo}, {hi}], got {v!r}")
            out[key] = v
    if "windows" in sel:
        out["windows"] = _windows(sel["windows"], f"{where}.windows")
    if "dates" in sel:
        try:
            out["dates"] = [pd.Timestamp(d) for d in sel["dates"]]
        except (TypeError, ValueError) as e:
            raise ParamsError(f"{where}.dates: expected a list of dates, got {sel['dates']!r}") from e
    return out


# ----------------------------------------------------------------------------- statistics
def _sign(lo: float, hi: float, null: float = 0.0) -> int:
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return 0
    return 1 if lo > null else -1 if hi < null else 0


def _diff_ci(a: np.ndarray, b: np.ndarray, z: float) -> tuple[float, float, float, int]:
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) < 2 or len(b) < 2:
        return np.nan, np.nan, np.nan, len(a)
    d = float(a.mean() - b.mean())
    se = float(np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b)))
    return d, d - z * se, d + z * se, len(a)


def _slope_ci(x: np.ndarray, y: np.ndarray, z: float) -> tuple[float, float, float, int]:
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 3 or np.ptp(x) == 0:
        return np.nan, np.nan, np.nan, len(x)
    dx = x - x.mean()
    b = float((dx * (y - y.mean())).sum() / (dx**2).sum())
    resid = y - y.mean() - b * dx
    se = float(np.sqrt((resid**2).sum() / (len(x) - 2) / (dx**2).sum()))
    return b, b - z * se, b + z * se, len(x)


def _ratio_ci(num: np.ndarray, den: np.ndarray, z: float) -> tuple[float, float, float, int]:
    """Σ num / Σ den over customers with both, its interval by the delta method (a ratio
    estimator: customers near zero consumption cannot blow it up)."""
    ok = np.isfinite(num) & np.isfinite(den)
    num, den = num[ok], den[ok]
    if len(num) < 2 or den.mean() <= 0:
        return np.nan, np.nan, np.nan, len(num)
    r = float(num.sum() / den.sum())
    u = (num - r * den) / den.mean()
    se = float(u.std(ddof=1) / np.sqrt(len(u)))
    return r, r - z * se, r + z * se, len(num)


def _zone_matrix(hdd: pd.DataFrame, zones: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    x = np.full(shape, np.nan)
    for zone in hdd.columns:
        x[zones == zone] = hdd[zone].to_numpy(dtype=float)[None, :]
    return x


def select_periods(periods: pd.DatetimeIndex, frequency: str, sel: dict[str, Any]) -> np.ndarray:
    """The periods a calendar selection keeps (every criterion must hold): ``months`` and
    ``weekdays`` (0 = Monday) of the period's start, ``windows`` holding its start, ``dates``
    falling inside the period."""
    keep = np.ones(len(periods), dtype=bool)
    if "months" in sel:
        keep &= np.isin(periods.month, sel["months"])
    if "weekdays" in sel:
        keep &= np.isin(periods.dayofweek, sel["weekdays"])
    if "windows" in sel:
        keep &= np.logical_or.reduce([(periods >= a) & (periods <= b) for a, b in sel["windows"]])
    if "dates" in sel:
        step = pd.Timedelta(days=DAYS_PER_PERIOD[frequency])
        keep &= np.logical_or.reduce([(periods <= d) & (d < periods + step) for d in sel["dates"]])
    return keep


def _window_mean(mat: np.ndarray, keep: np.ndarray) -> np.ndarray:
    block = mat[:, keep]
    n = np.isfinite(block).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, np.nansum(block, 1) / np.maximum(n, 1), np.nan)


# ----------------------------------------------------------------------------- estimates
class _Portfolio:
    """One portfolio's matrix, per-customer measures and column labels, computed once."""

    def __init__(self, p: Portfolio, source: str, temperature: pd.DataFrame | None,
                 calendar: pd.DataFrame | None = None) -> None:
        spec = p.schema.series
        if spec is None:
            raise DataError(f"{source}: studies need consumption series, the schema has none")
        self.p, self.source, self.spec, self.temperature = p, source, spec, temperature
        self.calendar = calendar
        self.mat = p.series_matrix()
        self.periods = spec.periods
        self._features: pd.DataFrame | None = None

    def has(self, column: str) -> bool:
        return column in self.p.customers

    def labels(self, column: str) -> np.ndarray:
        if column not in self.p.customers:
            raise DataError(f"{self.source}: study column '{column}' missing from the customers table")
        kind = self.p.schema[column].kind if column in self.p.schema.names else None
        return labels(self.p.customers[column], kind)

    def measure(self, name: str) -> np.ndarray:
        if self._features is None:
            self._features = series_features_from_matrix(self.mat, self.spec)
        v = self._features[MEASURES[name][0]].to_numpy(dtype=float)
        return v / DAYS_PER_PERIOD[self.spec.frequency] if name == "daily_kwh" else v

    def numbers(self, column: str) -> np.ndarray:
        lab = self.labels(column)
        return pd.to_numeric(pd.Series(lab).where(lab != NULL_LABEL), errors="coerce").to_numpy(dtype=float)

    def event_share(self, args: dict[str, Any]) -> np.ndarray:
        """The share of each period's days the event covers (its window, or its calendar days)."""
        if args["window"] is not None:
            return window_share(self.periods, *args["window"])
        cal = self.calendar
        return np.nan_to_num(period_mean(self.periods, pd.DatetimeIndex(cal["date"]), cal[args["calendar"]].to_numpy(dtype=float)))

    def degree_days(self, base: float = HDD_BASE_C) -> pd.DataFrame:
        # degree days at base b = the evaluation's 18 °C degree days of a shifted temperature
        t = self.temperature
        if base != HDD_BASE_C:
            t = t.assign(temperature_c=t["temperature_c"] + (HDD_BASE_C - base))
        d = degree_days(t, self.spec)
        d.columns = d.columns.astype(str)
        return d


def skip_reason(block: Block, p: _Portfolio) -> str | None:
    """Why a block cannot run on this portfolio (None: it can)."""
    a = block.args
    # An event block reads the zone column only for its weather terms, which are optional.
    columns = [a[k] for k in ("by", "x") if a.get(k)]
    columns += [next(iter(a[k])) for k in ("treated", "control") if a.get(k)]
    if block.type == "thermosensitivity" and a["zone_column"]:
        columns.append(a["zone_column"])
    missing = [c for c in columns if not p.has(c)]
    if missing:
        return f"no column {missing} in the customers table"
    if block.type == "thermosensitivity":
        if p.temperature is None:
            return "no temperature table (data.path/temperature.parquet)"
        if not a["zone_column"]:
            return "no zone_column naming the customers' climate zone"
    if block.type == "ratio" and p.spec.frequency != "daily" and any(
            "weekdays" in a[k] for k in ("numerator", "denominator")):
        return f"weekdays need a daily series, this one is {p.spec.frequency}"
    if block.type == "ratio":
        for key in ("numerator", "denominator"):
            if not select_periods(p.periods, p.spec.frequency, a[key]).any():
                return f"its {key} selects no period of the series grid"
    if block.type == "event" and a["calendar"] is not None:
        if p.calendar is None:
            return "no calendar table (data.path/calendar.parquet)"
        if a["calendar"] not in p.calendar:
            return f"no column '{a['calendar']}' in the calendar table"
    if block.type == "event" and p.event_share(a).sum() == 0:
        return "its days lie outside the series grid"
    if block.type == "did":
        for key in ("pre", "post"):
            if not any(window_share(p.periods, s, e).sum() > 0 for s, e in a[key]):
                return f"its {key} windows lie outside the series grid"
    return None


def estimates(p: Portfolio, cfg: dict[str, Any], temperature: pd.DataFrame | None, source: str,
              groups: dict[str, list[str]] | None = None,
              calendar: pd.DataFrame | None = None) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Every estimate of a checked study (:func:`config`) on one portfolio (rows of
    :data:`COLUMNS`) and the levels used.

    ``groups`` (from the real portfolio's call) fixes which levels are estimated and which
    blocks run; ``None`` selects the levels with at least ``min_customers`` customers and prints
    one line per block the portfolio cannot support.
    """
    z = float(stats.norm.ppf(0.5 + cfg["confidence"] / 2))
    pf = _Portfolio(p, source, temperature, calendar)
    choose = groups is None
    groups = dict(groups or {})
    rows: list[dict[str, Any]] = []

    def add(block: Block, estimate: str, unit: str, res: tuple[float, float, float, int], null: float = 0.0) -> None:
        v, lo, hi, n = res
        rows.append({"study": block.family, "estimate": estimate, "unit": unit, "source": source,
                     "value": v, "lo": lo, "hi": hi, "n": n, "sign": _sign(lo, hi, null)})

    def frequent(key: str, lev: np.ndarray) -> list[str]:
        if choose:
            counts = pd.Series(lev[lev != NULL_LABEL]).value_counts()
            groups[key] = sorted(counts[counts >= cfg["min_customers"]].index)
        return groups.get(key, [])

    for i, block in enumerate(cfg["blocks"]):
        key = f"{i}:{block.where}"
        if choose:
            why = skip_reason(block, pf)
            if why:
                print(f"acacia study: {block.where} ({block.type}) skipped: {why}", file=sys.stderr)
                groups[key] = []
                groups[f"{key}:skipped"] = [why]
                continue
        elif groups.get(f"{key}:skipped"):
            continue
        _RUN[block.type](block, pf, cfg, z, add, lambda lev, k=key: frequent(k, lev))
    return pd.DataFrame(rows, columns=COLUMNS), groups


def _unit(block: Block, default: str) -> str:
    return block.args["unit"] or default


def _level(block: Block, pf: _Portfolio, cfg: dict[str, Any], z: float, add: Any, frequent: Any) -> None:
    a = block.args
    lev, v = pf.labels(a["by"]), pf.measure(a["measure"])
    for g in frequent(lev):
        add(block, f"{a['measure']}[{a['by']}={g}]", _unit(block, MEASURES[a["measure"]][1]), mean_ci(v[lev == g], z))


def _contrast(block: Block, pf: _Portfolio, cfg: dict[str, Any], z: float, add: Any, frequent: Any) -> None:
    a = block.args
    lev, v, ref = pf.labels(a["by"]), pf.measure(a["measure"]), str(a["reference"])
    for g in frequent(lev):
        if g != ref:
            add(block, f"{a['measure']}[{a['by']}={g} − {ref}]", _unit(block, MEASURES[a["measure"]][1]),
                _diff_ci(v[lev == g], v[lev == ref], z))


def _slope(block: Block, pf: _Portfolio, cfg: dict[str, Any], z: float, add: Any, frequent: Any) -> None:
    a = block.args
    x = pf.numbers(a["x"])
    if frequent(np.where(np.isfinite(x), "yes", NULL_LABEL)):
        add(block, f"{a['measure']}_per_{a['x']}", _unit(block, f"{MEASURES[a['measure']][1]} per {a['x']}"),
            _slope_ci(x, pf.measure(a["measure"]), z))


def _thermosensitivity(block: Block, pf: _Portfolio, cfg: dict[str, Any], z: float, add: Any,
                       frequent: Any) -> None:
    a = block.args
    slope = thermosensitivity(pf.mat, pf.labels(a["zone_column"]), pf.degree_days())
    lev = pf.labels(a["by"])
    for g in frequent(lev):
        add(block, f"thermosensitivity[{a['by']}={g}]", _unit(block, ""), mean_ci(slope[lev == g], z))


def _ratio(block: Block, pf: _Portfolio, cfg: dict[str, Any], z: float, add: Any, frequent: Any) -> None:
    a = block.args
    num = _window_mean(pf.mat, select_periods(pf.periods, pf.spec.frequency, a["numerator"]))
    den = _window_mean(pf.mat, select_periods(pf.periods, pf.spec.frequency, a["denominator"]))
    shift = 1.0 if a["minus_one"] else 0.0
    unit = _unit(block, "relative change" if a["minus_one"] else "ratio")
    if a["by"] is None:
        parts = [(a["name"], np.ones(len(num), dtype=bool))] if frequent(np.full(len(num), "all")) else []
    else:
        lev = pf.labels(a["by"])
        parts = [(f"{a['name']}[{a['by']}={g}]", lev == g) for g in frequent(lev)]
    for name, rows in parts:
        r, lo, hi, n = _ratio_ci(num[rows], den[rows], z)
        add(block, name, unit, (r - shift, lo - shift, hi - shift, n), null=1.0 - shift)


def _event(block: Block, pf: _Portfolio, cfg: dict[str, Any], z: float, add: Any, frequent: Any) -> None:
    a = block.args
    hdd_x: list[np.ndarray] = []
    if pf.temperature is not None and a["zone_column"] and pf.has(a["zone_column"]):
        zones = pf.labels(a["zone_column"])
        hdd_x = [_zone_matrix(pf.degree_days(float(b)), zones, pf.mat.shape) for b in a["degree_day_bases"]]
    share = pf.event_share(a)
    if a["by"] is None:
        parts = [(a["name"], slice(None))] if frequent(np.full(len(pf.mat), "all")) else []
    else:
        lev = pf.labels(a["by"])
        parts = [(f"{a['name']}[{a['by']}={g}]", lev == g) for g in frequent(lev)]
    if parts:
        coef, normal = event_terms(pf.mat, hdd_x, pf.periods, share, a["exclude"])
        for name, rows in parts:
            add(block, name, _unit(block, ""), _ratio_ci(coef[rows], normal[rows], z))


def _did(block: Block, pf: _Portfolio, cfg: dict[str, Any], z: float, add: Any, frequent: Any) -> None:
    a = block.args

    def mean_over(windows: list[tuple[pd.Timestamp, pd.Timestamp]]) -> np.ndarray:
        keep = np.logical_or.reduce([window_share(pf.periods, s, e) > 0 for s, e in windows])
        return _window_mean(pf.mat, keep)

    pre, post = mean_over(a["pre"]), mean_over(a["post"])
    with np.errstate(invalid="ignore", divide="ignore"):
        change = np.where((pre > 0) & (post > 0), np.log(post) - np.log(pre), np.nan)
    (tcol, tval), = a["treated"].items()
    treated = pf.labels(tcol) == str(tval)
    if a["control"] is None:
        control = ~treated
    else:
        (ccol, cval), = a["control"].items()
        control = pf.labels(ccol) == str(cval)
    both = np.where(treated, "treated", np.where(control, "control", NULL_LABEL))
    if len(frequent(both)) == 2:
        add(block, a["name"], _unit(block, ""), _diff_ci(change[treated], change[control], z))


_RUN = {"level": _level, "contrast": _contrast, "slope": _slope, "thermosensitivity": _thermosensitivity,
        "ratio": _ratio, "event": _event, "did": _did}


# ----------------------------------------------------------------------------- comparison
def compare_studies(real: Portfolio, sources: dict[str, Portfolio], cfg: dict[str, Any] | None,
                    temperature: pd.DataFrame | None = None, name: str = "study",
                    calendar: pd.DataFrame | None = None) -> tuple[pd.DataFrame, dict[str, float]]:
    """The estimates of the real portfolio and every source side by side (long table with
    ``overlap`` and ``preserved`` per synthetic row) and the flat metrics
    ``<source>.conclusions_preserved``, ``<source>.<family>_preserved`` and ``n_estimates``.

    Raises DataError when the real portfolio supports no estimate at all (the stage then writes
    its outputs as not applicable)."""
    c = config(cfg, name)
    ref, groups = estimates(real, c, temperature, REAL, calendar=calendar)
    if ref.empty:
        raise NoEstimate(f"studies.{name}: the real portfolio supports no estimate (every block skipped, or "
                        f"fewer than {c['min_customers']} customers in every level)")
    tables = [ref.assign(overlap=np.nan, preserved=np.nan)]
    metrics: dict[str, float] = {"n_estimates": float(len(ref))}
    for source, p in sources.items():
        est, _ = estimates(p, c, temperature, source, groups, calendar)
        est = ref[["estimate"]].merge(est, on="estimate", how="left")
        est["source"], est["study"], est["unit"] = source, ref["study"].to_numpy(), ref["unit"].to_numpy()
        overlap = (est["lo"].to_numpy() <= ref["hi"].to_numpy()) & (ref["lo"].to_numpy() <= est["hi"].to_numpy())
        preserved = overlap & (est["sign"].to_numpy() == ref["sign"].to_numpy())
        est["overlap"], est["preserved"] = overlap.astype(float), preserved.astype(float)
        tables.append(est[[*COLUMNS, "overlap", "preserved"]])
        metrics[f"{source}.conclusions_preserved"] = float(preserved.mean())
        for family in ref["study"].unique():
            metrics[f"{source}.{family}_preserved"] = float(preserved[(ref["study"] == family).to_numpy()].mean())
    return pd.concat(tables, ignore_index=True), metrics


def side_by_side(table: pd.DataFrame) -> str:
    """Markdown: one row per estimate, the real interval, then each source's with ✓ / ✗."""
    sources = list(dict.fromkeys(table["source"]))

    def cell(r: pd.Series) -> str:
        if not np.isfinite(r["value"]):
            return "— ✗" if r["source"] != REAL else "—"
        mark = "" if r["source"] == REAL else (" ✓" if r["preserved"] == 1 else " ✗")
        return f"{r['value']:.3g} [{r['lo']:.3g}, {r['hi']:.3g}]{mark}"

    lines = ["| estimate | unit | " + " | ".join(sources) + " |", "| --- | --- |" + " --- |" * len(sources)]
    for est, g in table.groupby("estimate", sort=False):
        by = {r["source"]: cell(r) for _, r in g.iterrows()}
        lines.append(f"| {est} | {g['unit'].iloc[0]} | " + " | ".join(by.get(s, "") for s in sources) + " |")
    return "\n".join(lines) + "\n"


CEILING_NOTE = (" `ceiling`: the real holdout with its series encoded and decoded by the models' series "
                "representation, the most a generator that writes the series that way could keep "
                "(`src/acacia/usecases/ceiling.py`): a conclusion it loses is the representation's loss, "
                "one it keeps and a model loses is the model's.")


def write_study(reports: Reports, name: str, table: pd.DataFrame, metrics: dict[str, float],
                confidence: float) -> None:
    """The study's Markdown table, forest plot, plot data and metrics JSON under ``reports``."""
    from acacia.usecases import figures
    from acacia.usecases.ceiling import PREFIX

    ceiling = table["source"].astype(str).str.startswith(PREFIX).any()
    atomic_write_text(reports.plots / "usecases" / f"{name}.csv", table.to_csv(index=False))
    atomic_write_text(reports.usecases / f"{name}.md", f"# Study: {name}\n\n"
                      f"The estimates declared in `studies.{name}` (params.yaml; blocks: docs/studies.md) with "
                      f"their {confidence:.0%} confidence intervals on the real train split and on each "
                      "portfolio; ✓: the interval overlaps the real one and the conclusion has the same sign "
                      "(`src/acacia/usecases/studies.py`)." + (CEILING_NOTE if ceiling else "") + "\n\n"
                      + side_by_side(table))
    figures.estimates_figure(table, reports.figures / "usecases" / f"{name}.png", title=name)
    write_json(reports.usecases / f"{name}.json", metrics)
