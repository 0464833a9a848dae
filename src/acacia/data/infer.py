"""Draft a schema from a customers table and a long consumption table (``acacia schema infer``).

The draft is a starting point the user edits: kinds are guessed from the values (text from CSV is
tried as booleans, integers, numbers and ISO dates before falling back to categories), every
column with an empty cell is nullable, numeric bounds are the observed range, the id column is
the customers' column of unique values that the consumption table shares, and the series grid
(daily or Monday-start weekly, first period, number of periods) is read off the period dates.
No column is marked as a target: that is the user's decision.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from acacia.data.loaders import _FALSE, _TRUE, PERIOD, _read, _text
from acacia.data.schema import Column, Schema, SeriesSpec
from acacia.errors import DataError

#: A text column with more distinct values than this share of its rows (and more than
#: MIN_LEVELS) is reported as free text in the draft's header, still declared categorical.
FREE_TEXT_SHARE = 0.5
MIN_LEVELS = 50


def infer_schema_from_frames(customers: pd.DataFrame, consumption: pd.DataFrame | None,
                             id_column: str | None = None, decimal_comma: bool = False) -> Schema:
    """A draft schema for a customers table and (optionally) its long consumption table."""
    if customers.empty:
        raise DataError("the customers table has no rows: nothing to infer a schema from")
    idc = id_column or _guess_id(customers, consumption)
    if idc not in customers.columns:
        raise DataError(f"id column '{idc}' is not a column of the customers table ({list(customers.columns)})")
    columns = [Column(idc, "id")]
    for name in customers.columns:
        if name != idc:
            columns.append(_column(name, customers[name], decimal_comma))
    series = None if consumption is None else _series(consumption, idc)
    return Schema(columns=columns, series=series, id_column=idc)


def infer_schema_from_files(customers_path: str | Path, consumption_path: str | Path | None,
                            id_column: str | None = None) -> Schema:
    """:func:`infer_schema_from_frames` on CSV or Parquet files (read as the loaders read them)."""
    table = _read(customers_path, "customers")
    consumption = _read(consumption_path, "consumption").df if consumption_path is not None else None
    return infer_schema_from_frames(table.df, consumption, id_column, table.decimal_comma)


def draft_yaml(schema: Schema, sources: list[str]) -> str:
    """The schema as commented YAML, ready for a user to check and edit."""
    notes = [
        f"# Drafted by `acacia schema infer` from {', '.join(sources)}.",
        "# Check every kind, the categories (the complete list, including levels absent from this",
        "# extract), the bounds (min/max are the observed range) and nullable; mark the use-case",
        "# targets with `target: true`. Kinds: numerical, integer, categorical, boolean, date, id.",
    ]
    free = [c.name for c in schema.columns if c.kind == "categorical" and c.categories
            and len(c.categories) > MIN_LEVELS]
    if free:
        notes.append(f"# Many levels (free text?): {free}: drop them from the customers file or keep them as categories.")
    d = schema.to_dict()
    return "\n".join(notes) + "\n" + yaml.safe_dump(d, sort_keys=False, allow_unicode=True, width=100, default_flow_style=None)


def _guess_id(customers: pd.DataFrame, consumption: pd.DataFrame | None) -> str:
    shared = [c for c in customers.columns if consumption is None or c in consumption.columns]
    unique = [c for c in shared if customers[c].notna().all() and customers[c].is_unique]
    named = [c for c in unique if "id" in str(c).lower()]
    if named or unique:
        return (named or unique)[0]
    raise DataError("no id column found: the customers table needs a column of unique, non-empty values "
                    "that the consumption table shares; name it with --id")


def _column(name: str, s: pd.Series, decimal_comma: bool) -> Column:
    nullable = bool(s.isna().any())
    if pd.api.types.is_bool_dtype(s):
        return Column(name, "boolean", nullable=nullable)
    if pd.api.types.is_datetime64_any_dtype(s):
        return Column(name, "date", nullable=nullable)
    if pd.api.types.is_numeric_dtype(s):
        return _numeric(name, s.astype(float), nullable)
    t = _text(s)
    nullable = bool(t.isna().any())
    v = t.dropna()
    if v.empty:
        return Column(name, "categorical", nullable=True, categories=[])
    low = v.str.lower()
    if low.isin(_TRUE | _FALSE).all() and not low.isin({"0", "1"}).all():
        return Column(name, "boolean", nullable=nullable)
    numbers = pd.to_numeric(v.str.replace(",", ".", regex=False) if decimal_comma else v, errors="coerce")
    if numbers.notna().all():
        return _numeric(name, numbers.astype(float), nullable)
    dates = pd.to_datetime(v, format="ISO8601", errors="coerce")
    if dates.notna().all():
        return Column(name, "date", nullable=nullable)
    return Column(name, "categorical", nullable=nullable, categories=sorted(v.unique().tolist()))


def _numeric(name: str, v: pd.Series, nullable: bool) -> Column:
    x = v.dropna().to_numpy(dtype=float)
    if not np.isfinite(x).all():
        raise DataError(f"column '{name}' has non-finite values")
    kind = "integer" if len(x) and np.array_equal(x, np.round(x)) else "numerical"
    lo, hi = (float(x.min()), float(x.max())) if len(x) else (None, None)
    return Column(name, kind, nullable=nullable, min=lo, max=hi)


def _series(consumption: pd.DataFrame, idc: str) -> SeriesSpec:
    if PERIOD not in consumption.columns:
        raise DataError(f"the consumption table has no '{PERIOD}' column (columns: {list(consumption.columns)})")
    if idc not in consumption.columns:
        raise DataError(f"the consumption table has no '{idc}' column, the customers' id")
    others = [c for c in consumption.columns if c not in (idc, PERIOD)]
    value = "kwh" if "kwh" in others else (others[0] if len(others) == 1 else None)
    if value is None:
        raise DataError(f"cannot tell the consumption value column among {others}: name it 'kwh'")
    days = pd.to_datetime(_text(consumption[PERIOD]) if not pd.api.types.is_datetime64_any_dtype(consumption[PERIOD])
                          else consumption[PERIOD], format="ISO8601", errors="coerce")
    if days.isna().any():
        bad = consumption[PERIOD][days.isna()].iloc[0]
        raise DataError(f"consumption '{PERIOD}' has an unparseable or empty date '{bad}'; expected ISO dates")
    if getattr(days.dt, "tz", None) is not None:
        days = days.dt.tz_localize(None)
    unique = pd.DatetimeIndex(days.dt.normalize().unique()).sort_values()
    step_days = np.diff(unique.values).astype("timedelta64[D]").astype(int)
    weekly = len(unique) > 1 and bool((step_days % 7 == 0).all())
    if weekly and not (unique.dayofweek == 0).all():
        raise DataError(f"consumption '{PERIOD}' looks weekly but starts on {unique[0].day_name()}s: "
                        "weekly periods start on Mondays (label each week by its Monday)")
    frequency, step = ("weekly", 7) if weekly else ("daily", 1)
    n_periods = int((unique[-1] - unique[0]).days // step) + 1
    return SeriesSpec(frequency=frequency, start=unique[0].strftime("%Y-%m-%d"), n_periods=n_periods, value=value)
