"""Datasets the pipeline can start from: the simulated portfolio, the Adult table, your own files.

User files are coerced to the types their schema declares and validated; every refusal is a
:class:`DataError` naming the file, the column and the offending value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from acacia.data.portfolio import Portfolio
from acacia.data.schema import Schema, infer_schema
from acacia.errors import DataError, ParamsError

SUFFIXES = (".csv", ".parquet")
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


def read_table(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise DataError(f"data file not found: {path}")
    if path.suffix.lower() not in SUFFIXES:
        raise DataError(f"{path}: unsupported file type '{path.suffix}', expected one of {list(SUFFIXES)}")
    if path.suffix.lower() == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=True)
    return pd.read_parquet(path)


def coerce(df: pd.DataFrame, schema: Schema, source: str) -> pd.DataFrame:
    """Cast each declared column to its kind; unparseable values are named, not silently nulled."""
    missing = [c for c in schema.names if c not in df.columns]
    if missing:
        raise DataError(f"{source}: missing columns {missing}")
    out = {}
    for col in schema.columns:
        s = df[col.name]
        present = s.notna() & (s.astype(str).str.strip() != "")
        if col.kind in ("numerical", "integer"):
            v = pd.to_numeric(s.where(present), errors="coerce")
            bad = present & v.isna()
            if bad.any():
                raise DataError(f"{source}: column '{col.name}' has non-numeric value '{s[bad].iloc[0]}'")
            if col.kind == "integer":
                if (v.dropna() != v.dropna().round()).any():
                    raise DataError(f"{source}: column '{col.name}' should hold integers, got '{v[v != v.round()].dropna().iloc[0]}'")
                v = v.astype("Int64")
            out[col.name] = v
        elif col.kind == "date":
            v = pd.to_datetime(s.where(present), errors="coerce")
            bad = present & v.isna()
            if bad.any():
                raise DataError(f"{source}: column '{col.name}' has unparseable date '{s[bad].iloc[0]}'")
            out[col.name] = v.dt.normalize().astype("datetime64[us]")
        elif col.kind == "boolean":
            if pd.api.types.is_bool_dtype(s):
                out[col.name] = s.astype("boolean")
                continue
            txt = s.where(present).astype(object).map(lambda x: None if pd.isna(x) else str(x).strip().lower())
            bad = txt.notna() & ~txt.isin(_TRUE | _FALSE)
            if bad.any():
                raise DataError(f"{source}: column '{col.name}' has non-boolean value '{s[bad].iloc[0]}'")
            out[col.name] = pd.array(txt.map(lambda x: None if pd.isna(x) else x in _TRUE), dtype="boolean")
        else:
            out[col.name] = s.where(present).astype(object).map(
                lambda x: None if pd.isna(x) else str(x).strip()).astype("str")
    return pd.DataFrame(out)


def coerce_consumption(df: pd.DataFrame, schema: Schema, source: str) -> pd.DataFrame:
    if schema.series is None:
        raise DataError(f"{source}: the schema has no 'series' block (frequency, start, n_periods); "
                        "add one to describe the consumption grid")
    value = schema.series.value
    need = [schema.id_column, "period_start", value]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise DataError(f"{source}: missing columns {missing}")
    periods = pd.to_datetime(df["period_start"], errors="coerce")
    if periods.isna().any():
        raise DataError(f"{source}: column 'period_start' has unparseable date '{df['period_start'][periods.isna()].iloc[0]}'")
    kwh = pd.to_numeric(df[value], errors="coerce")
    bad = kwh.isna() & df[value].notna()
    if bad.any():
        raise DataError(f"{source}: column '{value}' has non-numeric value '{df[value][bad].iloc[0]}'")
    if (kwh < 0).any():
        raise DataError(f"{source}: column '{value}' has negative value {float(kwh[kwh < 0].iloc[0])} "
                        f"(customer '{df[schema.id_column][kwh < 0].iloc[0]}')")
    return pd.DataFrame({schema.id_column: df[schema.id_column].astype(str).astype("str"),
                         "period_start": periods.dt.normalize().astype("datetime64[us]"),
                         value: kwh.astype(float)}).dropna(subset=[value]).reset_index(drop=True)


def load_user_files(customers_path: str | Path, consumption_path: str | Path,
                    schema_path: str | Path) -> Portfolio:
    schema = Schema.load(schema_path)
    customers = coerce(read_table(customers_path), schema, str(customers_path))
    consumption = coerce_consumption(read_table(consumption_path), schema, str(consumption_path))
    p = Portfolio(customers, consumption, schema)
    schema.validate_customers(customers, source=str(customers_path))
    schema.validate_consumption(consumption, p.ids, source=str(consumption_path))
    return p


ADULT_FILES = ("adult.data.csv", "adult.test.csv")


def load_adult(path: str | Path) -> tuple[Portfolio, Portfolio]:
    """The UCI Adult table with its standard split (train = adult.data, test = adult.test)."""
    path = Path(path)
    if not all((path / f).exists() for f in ADULT_FILES):
        raise DataError(f"Adult table not found at {path} (expected {list(ADULT_FILES)}): "
                        "set data.adult_path in params.yaml")
    parts = []
    for f in ADULT_FILES:
        df = pd.read_csv(path / f, dtype=str, skipinitialspace=True)
        df = df.apply(lambda s: s.str.strip()).replace("?", None)
        df["income"] = df["income"].str.rstrip(".")
        parts.append(df)
    both = pd.concat(parts, ignore_index=True)
    for col in both.columns:
        num = pd.to_numeric(both[col], errors="coerce")
        if num.notna().sum() == both[col].notna().sum():
            both[col] = num.astype("Int64") if (num.dropna() == num.dropna().round()).all() else num
        else:
            both[col] = both[col].astype("str")
    both.insert(0, "customer_id", pd.array([f"A{i:07d}" for i in range(1, len(both) + 1)], dtype="str"))
    schema = infer_schema(both, id_column="customer_id", targets=["income"])
    for col in schema.columns:
        if col.kind in ("numerical", "integer"):
            col.min = col.max = None   # bounds come from the data a model is fitted on
    empty = pd.DataFrame({"customer_id": pd.Series(dtype="str"), "period_start": pd.Series(dtype="datetime64[us]"),
                          "kwh": pd.Series(dtype=float)})
    n_train = len(parts[0])
    return (Portfolio(both.iloc[:n_train].reset_index(drop=True), empty, schema),
            Portfolio(both.iloc[n_train:].reset_index(drop=True), empty.copy(), schema))


def load_source(cfg: dict[str, Any], root: Path) -> dict[str, Portfolio]:
    """``{"all": p}``, or ``{"train": p, "test": q}`` for datasets with an official test split."""
    source = cfg.get("source")
    if source == "simulated":
        return {"all": Portfolio.load(root / cfg.get("simulated_dir", "data/raw/simulated")).validate("simulated")}
    if source == "adult":
        if not cfg.get("adult_path"):
            raise ParamsError("data.adult_path: expected the folder holding adult.data.csv and adult.test.csv")
        train, test = load_adult(root / cfg["adult_path"])
        return {"train": train, "test": test}
    if source == "files":
        for key in ("customers", "consumption", "schema"):
            if not cfg.get(key):
                raise ParamsError(f"data.{key}: expected a file path when data.source is 'files'")
        return {"all": load_user_files(root / cfg["customers"], root / cfg["consumption"], root / cfg["schema"])}
    raise ParamsError(f"data.source: expected one of ['simulated', 'adult', 'files'], got {source!r}")
