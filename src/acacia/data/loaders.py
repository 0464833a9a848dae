"""Datasets the pipeline can start from: the simulated portfolio, the Adult table, your own files.

User files are coerced to the types their schema declares, then checked against it; every refusal
is a :class:`DataError` naming the file, the column and the offending value (with its line for
CSV), so a user can fix the file without reading a traceback. Typed output uses the same dtypes as
the simulator (``str``, ``Int64``, ``boolean``, ``float64``, ``datetime64[us]``) so nothing
downstream depends on where a portfolio came from.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from acacia.data.portfolio import Portfolio
from acacia.data.schema import Column, Schema, infer_schema
from acacia.errors import DataError, ParamsError

log = logging.getLogger(__name__)

SUFFIXES = (".csv", ".parquet")
SOURCES = ("simulated", "lcl", "adult", "files")
PERIOD = "period_start"
# Spellings of booleans found in exports (English and French spreadsheets).
_TRUE = frozenset({"true", "1", "yes", "y", "t", "oui", "vrai"})
_FALSE = frozenset({"false", "0", "no", "n", "f", "non", "faux"})
# What exports write for "no value". Read as text first, so that a category spelled like one of
# these (a heating type 'None') survives when the schema declares it.
NULL_TOKENS = frozenset({"NA", "N/A", "n/a", "#N/A", "NaN", "nan", "null", "NULL", "None", "<NA>"})


# ----------------------------------------------------------------------------- reading files
class _Table:
    """A raw table and how to point at one of its rows in a message."""

    def __init__(self, df: pd.DataFrame, path: Path, decimal_comma: bool) -> None:
        self.df = df
        self.path = path
        self.decimal_comma = decimal_comma
        self.is_csv = path.suffix.lower() == ".csv"

    def where(self, mask: pd.Series) -> str:
        """' (line 7)' for the first True of mask: the line a user sees in an editor."""
        pos = int(np.flatnonzero(mask.to_numpy(dtype=bool))[0])
        # CSV: line 1 is the header, so row 0 is on line 2; Parquet has no lines, only rows.
        return f" (line {pos + 2})" if self.is_csv else f" (row {pos + 1})"


def read_table(path: str | Path, role: str = "data") -> pd.DataFrame:
    """A CSV (all columns as text, coerced later) or Parquet file; `role` names it in errors."""
    return _read(path, role).df


def _read(path: str | Path, role: str) -> _Table:
    path = Path(path).expanduser()
    if path.suffix.lower() not in SUFFIXES:
        raise DataError(
            f"{path}: unsupported file type '{path.suffix}' for the {role} file, "
            f"expected one of {list(SUFFIXES)}"
        )
    if not path.is_file():
        raise DataError(f"{role} file not found: {path}")
    if path.suffix.lower() == ".parquet":
        try:
            df = pd.read_parquet(path)
        except Exception as e:  # pyarrow raises several types for one cause: not Parquet
            raise DataError(f"{path}: cannot be read as Parquet ({e})") from e
        return _Table(df, path, decimal_comma=False)
    sep = _sniff_separator(path)
    try:
        # All text: types come from the schema, not from pandas' guesses (which would turn ids
        # like '007' into 7 and a column of 0/1 into integers).
        df = pd.read_csv(
            path, sep=sep, dtype=str, encoding="utf-8-sig", keep_default_na=False, na_values=[""]
        )
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text; save the file as UTF-8 CSV") from e
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise DataError(f"{path}: cannot be read as CSV ({e})") from e
    df.columns = [str(c).strip() for c in df.columns]
    # Spreadsheets set to French locale export ';'-separated files with decimal commas.
    return _Table(df, path, decimal_comma=sep == ";")


def _sniff_separator(path: Path) -> str:
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        header = f.readline()
    counts = {s: header.count(s) for s in (",", ";", "\t")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","


# ----------------------------------------------------------------------------- coercion
def _text(s: pd.Series, keep: Collection[str] = ()) -> pd.Series:
    """Stripped strings, missing where empty or a null token (unless a declared category in
    `keep`); integral floats (Parquet) lose their '.0'."""
    if pd.api.types.is_float_dtype(s):
        v = s.dropna()
        if len(v) and np.array_equal(v, np.round(v)):
            s = s.astype("Int64")
    t = s.astype("str").str.strip()
    return t.where((t != "") & ~t.isin(NULL_TOKENS - set(keep)))


def _numbers(s: pd.Series, col: str, table: _Table) -> pd.Series:
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        v = s.astype(float)
        present = v.notna()
    else:
        t = _text(s)
        if table.decimal_comma:
            t = t.str.replace(",", ".", regex=False)
        present = t.notna()
        v = pd.to_numeric(t, errors="coerce").astype(float)
        bad = present & v.isna()
        if bad.any():
            hint = " (decimal comma? use '.')" if "," in str(s[bad].iloc[0]) else ""
            raise DataError(
                f"{table.path}: column '{col}' has non-numeric value '{s[bad].iloc[0]}'"
                f"{table.where(bad)}{hint}"
            )
    inf = present & ~np.isfinite(v.fillna(0.0))
    if inf.any():
        raise DataError(
            f"{table.path}: column '{col}' has non-finite value '{s[inf].iloc[0]}'{table.where(inf)}"
        )
    return v


def _dates(s: pd.Series, col: str, table: _Table) -> pd.Series:
    """datetime64[us], tz-naive; ISO 8601 text only, since 04/01/2021 is ambiguous (day first in
    France, month first in the US) and a silent swap would corrupt the series."""
    if pd.api.types.is_datetime64_any_dtype(s):
        v = s
    else:
        t = s if pd.api.types.is_object_dtype(s) and not _all_text(s) else _text(s)
        v = pd.to_datetime(t, format="ISO8601", errors="coerce")
        bad = t.notna() & v.isna()
        if bad.any():
            raise DataError(
                f"{table.path}: column '{col}' has unparseable date '{s[bad].iloc[0]}'"
                f"{table.where(bad)}; expected ISO dates such as 2021-01-04"
            )
    if getattr(v.dt, "tz", None) is not None:
        v = v.dt.tz_localize(None)  # keep the local wall-clock date the utility recorded
    return v.astype("datetime64[us]")


def _all_text(s: pd.Series) -> bool:
    return bool(s.dropna().map(lambda x: isinstance(x, str)).all())


def _booleans(s: pd.Series, col: str, table: _Table) -> pd.Series:
    if pd.api.types.is_bool_dtype(s):
        return s.astype("boolean")
    t = _text(s).str.lower()
    bad = t.notna() & ~t.isin(_TRUE | _FALSE)
    if bad.any():
        raise DataError(
            f"{table.path}: column '{col}' has non-boolean value '{s[bad].iloc[0]}'"
            f"{table.where(bad)}; expected true/false, 1/0 or yes/no"
        )
    out = pd.Series(pd.NA, index=s.index, dtype="boolean")
    out[t.isin(_TRUE)] = True
    out[t.isin(_FALSE)] = False
    return out


def _coerce_column(s: pd.Series, col: Column, table: _Table) -> pd.Series:
    if col.kind in ("numerical", "integer"):
        v = _numbers(s, col.name, table)
        if col.kind == "numerical":
            return v
        frac = v.notna() & (v != np.round(v))
        if frac.any():
            raise DataError(
                f"{table.path}: column '{col.name}' should hold integers, got '{s[frac].iloc[0]}'"
                f"{table.where(frac)}"
            )
        return v.astype("Int64")
    if col.kind == "date":
        return _dates(s, col.name, table).dt.normalize()
    if col.kind == "boolean":
        return _booleans(s, col.name, table)
    return _text(s, keep=col.categories or ())  # id, categorical: compared as text


def _coerce_customers(table: _Table, schema: Schema) -> pd.DataFrame:
    df = table.df
    missing = [c for c in schema.names if c not in df.columns]
    if missing:
        raise DataError(f"{table.path}: missing columns {missing} declared in the schema")
    extra = [c for c in df.columns if c not in schema.names]
    if extra:
        # Exports often carry more than the schema declares; the schema is the contract.
        log.warning("%s: ignoring columns not in the schema: %s", table.path, extra)
    out = {}
    for col in schema.columns:
        v = _coerce_column(df[col.name], col, table)
        empty = v.isna()
        if empty.any() and not col.nullable:
            raise DataError(
                f"{table.path}: column '{col.name}' is empty{table.where(empty)} "
                f"but is not nullable in the schema"
            )
        out[col.name] = v
    return pd.DataFrame(out)


def _coerce_consumption(
    table: _Table, schema: Schema, schema_path: str | Path, customer_ids: pd.Series
) -> pd.DataFrame:
    spec = schema.series
    if spec is None:
        raise DataError(
            f"{schema_path}: no 'series' block, needed to read the consumption file {table.path}; "
            "add e.g. series: {frequency: weekly, start: '2019-01-07', n_periods: 157, value: kwh}"
        )
    idc, value = schema.id_column, spec.value
    df = table.df
    missing = [c for c in (idc, PERIOD, value) if c not in df.columns]
    if missing:
        raise DataError(f"{table.path}: missing columns {missing}")
    ids = _text(df[idc])
    for name, col in ((idc, ids), (PERIOD, df[PERIOD])):
        if col.isna().any():
            raise DataError(f"{table.path}: column '{name}' is empty{table.where(col.isna())}")
    periods = _dates(df[PERIOD], PERIOD, table)
    kwh = _numbers(df[value], value, table)
    neg = kwh < 0
    if neg.any():
        raise DataError(
            f"{table.path}: column '{value}' has negative value {kwh[neg].iloc[0]:g} for customer "
            f"'{ids[neg].iloc[0]}' on {periods[neg].iloc[0].date()}{table.where(neg)}"
        )
    unknown = ~ids.isin(customer_ids)
    if unknown.any():
        raise DataError(
            f"{table.path}: consumption for unknown customer '{ids[unknown].iloc[0]}'"
            f"{table.where(unknown)}, absent from the customers file"
        )
    try:
        grid = spec.periods
    except DataError as e:
        raise DataError(f"{schema_path}: {e}") from e
    off = ~periods.isin(grid)
    if off.any():
        first = periods[off].iloc[0]
        if grid[0] <= first <= grid[-1]:
            why = f"irregular period {first.date()} is not on the {spec.frequency} grid"
        else:
            why = f"period {first.date()} is outside the declared series"
        raise DataError(
            f"{table.path}: {why} ({spec.frequency} from {grid[0].date()} to {grid[-1].date()}, "
            f"{spec.n_periods} periods, as declared in {schema_path}){table.where(off)}"
        )
    dup = pd.DataFrame({idc: ids, PERIOD: periods}).duplicated()
    if dup.any():
        raise DataError(
            f"{table.path}: two readings for customer '{ids[dup].iloc[0]}' on "
            f"{periods[dup].iloc[0].date()}{table.where(dup)}"
        )
    out = pd.DataFrame({idc: ids, PERIOD: periods, value: kwh})
    # A missing reading is an absent row, as Portfolio.consumption_from_matrix writes them.
    out = out[out[value].notna()]
    return out.sort_values([idc, PERIOD], kind="stable").reset_index(drop=True)


def load_user_files(
    customers_path: str | Path, consumption_path: str | Path | None, schema: str | Path | Schema
) -> Portfolio:
    """A user's portfolio: customers and long consumption (CSV or Parquet) typed by a schema (a
    YAML or JSON file, or a :class:`Schema`); no consumption file when the schema has no series.

    Raises DataError naming the file, column and value of the first problem found.
    """
    if isinstance(schema, Schema):
        schema_name = "the schema"
    else:
        schema_name = str(Path(schema).expanduser())
        schema = Schema.load(Path(schema).expanduser())
    customers = _read(customers_path, "customers")
    consumption = _read(consumption_path, "consumption") if consumption_path is not None else None
    return typed_portfolio(customers, consumption, schema, schema_name)


def portfolio_from_tables(customers: pd.DataFrame, consumption: pd.DataFrame | None, schema: Schema) -> Portfolio:
    """:func:`load_user_files` for tables already in memory (``Portfolio.from_frames``)."""
    return typed_portfolio(_Table(customers, Path("customers table"), False),
                           None if consumption is None else _Table(consumption, Path("consumption table"), False),
                           schema, "the schema")


def typed_portfolio(customers_table: _Table, consumption_table: _Table | None, schema: Schema,
                    schema_name: str) -> Portfolio:
    customers = _coerce_customers(customers_table, schema)
    # Contract checks (duplicate ids, categories, bounds) worded by the schema itself.
    schema.validate_customers(customers, source=str(customers_table.path))
    if consumption_table is None:
        if schema.series is not None:
            raise DataError(f"{schema_name} declares a consumption series ({schema.series.frequency}) "
                            "but no consumption table was given")
        return Portfolio(customers=customers, consumption=_no_consumption(schema.id_column), schema=schema)
    consumption = _coerce_consumption(consumption_table, schema, schema_name, customers[schema.id_column])
    p = Portfolio(customers=customers, consumption=consumption, schema=schema)
    schema.validate_consumption(consumption, p.ids, source=str(consumption_table.path))
    return p


# ----------------------------------------------------------------------------- Adult
ADULT_FILES = {"train": "adult.data.csv", "test": "adult.test.csv"}
ADULT_INTEGERS = (
    "age",
    "fnlwgt",
    "education-num",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
)
ADULT_CATEGORICALS = (
    "workclass", "education", "marital-status", "occupation", "relationship", "race", "sex",
    "native-country", "income",
)  # fmt: skip
ADULT_LABELS = ("<=50K", ">50K")
ADULT_ID = "customer_id"


def load_adult(path: str | Path) -> tuple[Portfolio, Portfolio]:
    """The UCI Adult table with the split of the TabSyn/TabDiff papers (train = adult.data,
    test = adult.test), as customers-only portfolios with ids A0000001, A0000002, ..."""
    path = Path(path).expanduser()
    missing = [f for f in ADULT_FILES.values() if not (path / f).is_file()]
    if missing:
        raise DataError(
            f"Adult table not found at {path}: set data.adult_path in params.yaml "
            f"(a folder holding {' and '.join(ADULT_FILES.values())}; missing {missing})"
        )
    parts = [_read_adult(path / f) for f in ADULT_FILES.values()]
    both = pd.concat(parts, ignore_index=True)
    both.insert(0, ADULT_ID, pd.Series([f"A{i:07d}" for i in range(1, len(both) + 1)], dtype="str"))
    # One schema over both splits, so test categories unseen in train are still valid values.
    schema = infer_schema(both, id_column=ADULT_ID, targets=["income"])
    n_train = len(parts[0])
    train = both.iloc[:n_train].reset_index(drop=True)
    test = both.iloc[n_train:].reset_index(drop=True)
    return Portfolio(train, _no_consumption(), schema), Portfolio(test, _no_consumption(), schema)


def _read_adult(file: Path) -> pd.DataFrame:
    table = _read(file, "Adult")
    df = table.df
    expected = [*ADULT_INTEGERS, *ADULT_CATEGORICALS]
    missing = [c for c in expected if c not in df.columns]
    if missing:
        raise DataError(f"{file}: missing Adult columns {missing}")
    df = df[[c for c in df.columns if c in expected]]  # keep the file's column order
    out = {}
    for c in df.columns:
        t = _text(df[c])
        t = t.where(t != "?")  # the UCI files mark a missing value with '?'
        if c in ADULT_INTEGERS:
            out[c] = _coerce_column(t, Column(c, "integer"), table)
        else:
            out[c] = t
    out["income"] = out["income"].str.rstrip(".")  # test labels are '<=50K.' and '>50K.'
    bad = ~out["income"].isin(ADULT_LABELS)
    if bad.any():
        raise DataError(
            f"{file}: column 'income' has value '{df['income'][bad].iloc[0]}'{table.where(bad)}, "
            f"expected one of {list(ADULT_LABELS)}"
        )
    return pd.DataFrame(out)


def _no_consumption(id_column: str = ADULT_ID) -> pd.DataFrame:
    return pd.DataFrame(
        {
            id_column: pd.Series(dtype="str"),
            PERIOD: pd.Series(dtype="datetime64[us]"),
            "kwh": pd.Series(dtype=float),
        }
    )


# ----------------------------------------------------------------------------- dispatch
#: The LCL half's schema, shipped with the package (drafted by ``acacia schema infer``, then
#: given its target): the dataset folder holds only the two tables.
LCL_SCHEMA = Path(__file__).with_name("lcl_schema.yaml")
#: An input folder may hold a daily temperature table (date, climate_zone, temperature_c) that
#: ``prepare`` passes on to the studies and the thermosensitivity metric.
TEMPERATURE_NAMES = ("temperature.parquet", "temperature.csv")
TEMPERATURE_COLUMNS = ("date", "climate_zone", "temperature_c")
#: ... and a daily calendar (``date`` + one column per known day type, e.g. Tempo red days: true
#: or a share in [0, 1]) that the studies and the series covariates read.
CALENDAR_NAMES = ("calendar.parquet", "calendar.csv")
_RENAMED = {"simulated_dir": "path", "adult_path": "path"}


def load_source(cfg: dict[str, Any], root: Path) -> dict[str, Portfolio]:
    """The dataset selected by the ``data`` section of params.yaml, paths relative to `root`.

    Every source reads one input folder, ``data.path`` (the folder ``prepare`` depends on in
    dvc.yaml, so that a changed file re-runs it). Returns ``{"all": p}``, or
    ``{"train": p, "test": q}`` for a dataset with an official test split (Adult), which
    ``prepare`` keeps as is.
    """
    source, folder = input_folder(cfg, root)
    if source == "simulated":
        return {"all": Portfolio.load(folder).validate(str(folder))}
    if source == "adult":
        train, test = load_adult(folder)
        return {"train": train, "test": test}
    if source == "lcl":
        schema = _in_folder(cfg, folder, "schema", None) if cfg.get("schema") else LCL_SCHEMA
        return {"all": load_user_files(_table_file(cfg, folder, "customers"),
                                       _table_file(cfg, folder, "consumption"), schema)}
    return {
        "all": load_user_files(
            _table_file(cfg, folder, "customers"),
            _table_file(cfg, folder, "consumption"),
            _in_folder(cfg, folder, "schema", ("schema.yaml", "schema.yml", "schema.json")),
        )
    }


def input_folder(cfg: dict[str, Any], root: Path) -> tuple[str, Path]:
    """(``data.source``, the input folder ``data.path`` under `root`), checked: an error names
    the key, and what the folder should hold when it is missing."""
    if not isinstance(cfg, dict):
        raise ParamsError(f"data: expected a mapping with 'source' and 'path' keys, got {cfg!r}")
    for old, new in _RENAMED.items():
        if old in cfg:
            raise ParamsError(f"data.{old}: replaced by data.{new} (the input folder of every source)")
    source = cfg.get("source")
    if source not in SOURCES:
        raise ParamsError(f"data.source: expected one of {list(SOURCES)}, got {source!r}")
    value = cfg.get("path")
    if not isinstance(value, str | Path) or not str(value):
        raise ParamsError(f"data.path: expected the input folder of data.source '{source}', got {value!r}")
    folder = Path(root) / Path(value).expanduser()
    if not folder.is_dir():
        raise DataError(f"data.path: input folder {folder} not found; {FOLDER_HINTS[source]}")
    return source, folder


FOLDER_HINTS = {
    "simulated": "run the stage that writes it (dvc repro simulate@<name>, data/raw/<name>)",
    "adult": "point data.path at the folder holding adult.data.csv and adult.test.csv",
    "lcl": "point data.path at the Low Carbon London folder holding customers.parquet and "
           "consumption.parquet (docs/datasets.md)",
    "files": "point data.path at the folder holding your customers, consumption and schema files",
}


def _in_folder(cfg: dict[str, Any], folder: Path, key: str, defaults: tuple[str, ...] | None) -> Path:
    """``data.<key>`` (a file name in the input folder, or an absolute path), else the first of
    `defaults` present there."""
    name = cfg.get(key)
    if name is not None:
        if not isinstance(name, str | Path):
            raise ParamsError(f"data.{key}: expected a file name in data.path, got {name!r}")
        return folder / Path(name).expanduser()
    for candidate in defaults or ():
        if (folder / candidate).is_file():
            return folder / candidate
    hint = " (draft one with `acacia schema infer CUSTOMERS CONSUMPTION`)" if key == "schema" else ""
    raise DataError(f"{folder}: no {key} file; expected one of {list(defaults or ())} there or "
                    f"data.{key} naming it{hint}")


def _table_file(cfg: dict[str, Any], folder: Path, key: str) -> Path:
    return _in_folder(cfg, folder, key, (f"{key}.parquet", f"{key}.csv"))


def temperature_file(folder: Path) -> Path | None:
    """The input folder's daily temperature table, if it has one."""
    return next((folder / n for n in TEMPERATURE_NAMES if (folder / n).is_file()), None)


def calendar_file(folder: Path) -> Path | None:
    """The input folder's daily calendar table, if it has one."""
    return next((folder / n for n in CALENDAR_NAMES if (folder / n).is_file()), None)


def load_calendar(path: str | Path) -> pd.DataFrame:
    """A daily calendar: ``date`` (one row per day) and flag columns (boolean, or a number in
    [0, 1]: the share of the day); a DataError names the column that is neither."""
    table = _read(path, "calendar")
    if "date" not in table.df.columns:
        raise DataError(f"{table.path}: no 'date' column, expected date + one column per day type")
    out = {"date": _dates(table.df["date"], "date", table).dt.normalize()}
    for col in table.df.columns.drop("date"):
        raw = table.df[col]
        if pd.api.types.is_bool_dtype(raw):
            raw = raw.astype(float)
        elif not pd.api.types.is_numeric_dtype(raw):  # a CSV's true / false
            raw = raw.map(lambda v: {"true": 1.0, "false": 0.0}.get(str(v).strip().lower(), v))
        values = _numbers(raw, col, table)
        if ((values < 0) | (values > 1)).any():
            raise DataError(f"{table.path}: calendar column '{col}' must be true/false or a share in [0, 1]")
        out[col] = values.astype(float)
    frame = pd.DataFrame(out)
    if frame["date"].duplicated().any():
        raise DataError(f"{table.path}: calendar dates must be unique (one row per day)")
    return frame


def load_temperature(path: str | Path) -> pd.DataFrame:
    """A daily temperature table: ``date`` (day), ``climate_zone`` (text, the customers' zone
    column's values), ``temperature_c`` (°C); a DataError names what is wrong."""
    table = _read(path, "temperature")
    missing = [c for c in TEMPERATURE_COLUMNS if c not in table.df.columns]
    if missing:
        raise DataError(f"{table.path}: missing temperature columns {missing}, expected {list(TEMPERATURE_COLUMNS)}")
    return pd.DataFrame({
        "date": _dates(table.df["date"], "date", table).dt.normalize(),
        "climate_zone": _text(table.df["climate_zone"]),
        "temperature_c": _numbers(table.df["temperature_c"], "temperature_c", table),
    })
