"""The data contract: what each column is, and how the consumption series is laid out.

A schema travels with every portfolio (real, simulated or synthetic) and is written to
``data/processed/schema.json`` by ``prepare``. Synthetic output is validated against the
same schema as the input, so a generator cannot silently invent categories, fractional
integers or negative kWh.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from acacia.data.ids import id_positions
from acacia.errors import DataError

KINDS = ("numerical", "integer", "categorical", "boolean", "date", "id")
FREQUENCIES = {"weekly": "W-MON", "daily": "D"}


@dataclass
class Column:
    name: str
    kind: str
    nullable: bool = False
    min: float | None = None
    max: float | None = None
    categories: list[str] | None = None
    target: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise DataError(
                f"column '{self.name}': unknown kind '{self.kind}', expected one of {list(KINDS)}"
            )
        if self.kind == "categorical" and self.categories is not None:
            self.categories = [str(c) for c in self.categories]


@dataclass
class SeriesSpec:
    """Long-format consumption: one row per (customer, period) on a regular grid."""

    frequency: str = "weekly"
    start: str = "2018-12-31"
    n_periods: int = 157
    value: str = "kwh"

    def __post_init__(self) -> None:
        if self.frequency not in FREQUENCIES:
            raise DataError(
                f"series frequency '{self.frequency}' not supported, expected one of "
                f"{list(FREQUENCIES)}"
            )

    @property
    def periods(self) -> pd.DatetimeIndex:
        freq = FREQUENCIES[self.frequency]
        start = pd.Timestamp(self.start)
        if self.frequency == "weekly" and start.dayofweek != 0:
            raise DataError(f"weekly series must start on a Monday, got {self.start}")
        return pd.date_range(start, periods=self.n_periods, freq=freq)

    def period_positions(self, dates: pd.Series) -> np.ndarray:
        """Position of each date on the period grid, -1 off the grid (or null)."""
        if getattr(dates.dtype, "tz", None) is not None or self.n_periods == 0:
            return np.full(len(dates), -1)  # the grid is naive: an aware date is never on it
        # In the dates' own unit: converting millions of dates costs more than the lookup, and
        # a hash lookup of int64s is cheaper than one of timestamps (NaT is never on the grid).
        values = dates.to_numpy()
        grid = self.periods.to_numpy().astype(values.dtype)
        return pd.Index(grid.view(np.int64)).get_indexer(values.view(np.int64))


@dataclass
class Schema:
    columns: list[Column]
    series: SeriesSpec | None = field(default_factory=SeriesSpec)
    id_column: str = "customer_id"

    # ----------------------------------------------------------------- lookups
    def __getitem__(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def feature_columns(self) -> list[Column]:
        return [c for c in self.columns if c.kind != "id"]

    @property
    def targets(self) -> list[str]:
        return [c.name for c in self.columns if c.target]

    def of_kind(self, *kinds: str) -> list[str]:
        return [c.name for c in self.columns if c.kind in kinds]

    # ----------------------------------------------------------------- (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        return {
            "id_column": self.id_column,
            "columns": [{k: v for k, v in asdict(c).items() if v is not None} for c in self.columns],
            "series": asdict(self.series) if self.series else None,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "schema") -> Schema:
        if not isinstance(d, dict) or "columns" not in d:
            raise DataError(f"{source}: expected a mapping with a 'columns' list")
        cols = []
        for i, c in enumerate(d["columns"]):
            if not isinstance(c, dict) or "name" not in c or "kind" not in c:
                raise DataError(f"{source}: column #{i} needs at least 'name' and 'kind'")
            unknown = set(c) - set(Column.__dataclass_fields__)
            if unknown:
                raise DataError(f"{source}: column '{c['name']}' has unknown keys {sorted(unknown)}")
            cols.append(Column(**c))
        series = d.get("series")
        return cls(
            columns=cols,
            series=SeriesSpec(**series) if series else None,
            id_column=d.get("id_column", "customer_id"),
        )

    def save(self, path: str | Path) -> None:
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2))

    @classmethod
    def load(cls, path: str | Path) -> Schema:
        path = Path(path)
        if not path.exists():
            raise DataError(f"schema file not found: {path}")
        text = path.read_text()
        if path.suffix in (".yaml", ".yml"):
            import yaml

            d = yaml.safe_load(text)
        else:
            d = json.loads(text)
        return cls.from_dict(d, source=str(path))

    # ----------------------------------------------------------------- validation
    def validate_customers(self, df: pd.DataFrame, source: str = "customers") -> None:
        """Raise DataError naming the first column that breaks the contract."""
        missing = [n for n in self.names if n not in df.columns]
        if missing:
            raise DataError(f"{source}: missing columns {missing}")
        for c in self.columns:
            s = df[c.name]
            nulls = s.isna()
            if nulls.any() and not c.nullable:
                raise DataError(
                    f"{source}: column '{c.name}' has {int(nulls.sum())} nulls but is not nullable"
                )
            v = s[~nulls]
            if c.kind == "id":
                if s.duplicated().any():
                    dup = s[s.duplicated()].iloc[0]
                    raise DataError(f"{source}: duplicate {c.name} '{dup}'")
            elif c.kind in ("numerical", "integer"):
                if not pd.api.types.is_numeric_dtype(s):
                    raise DataError(f"{source}: column '{c.name}' should be numeric, got {s.dtype}")
                if c.kind == "integer" and len(v) and not np.allclose(v, np.round(v)):
                    raise DataError(f"{source}: column '{c.name}' should hold integers")
                if c.min is not None and len(v) and v.min() < c.min:
                    raise DataError(f"{source}: column '{c.name}' below its minimum {c.min}")
                if c.max is not None and len(v) and v.max() > c.max:
                    raise DataError(f"{source}: column '{c.name}' above its maximum {c.max}")
            elif c.kind == "date":
                if not pd.api.types.is_datetime64_any_dtype(s):
                    raise DataError(f"{source}: column '{c.name}' should hold dates, got {s.dtype}")
            elif c.kind == "boolean":
                bad = ~v.isin([True, False])
                if bad.any():
                    raise DataError(
                        f"{source}: column '{c.name}' should be boolean, got '{v[bad].iloc[0]}'"
                    )
            elif c.kind == "categorical" and c.categories is not None:
                bad = ~v.astype(str).isin(c.categories)
                if bad.any():
                    raise DataError(
                        f"{source}: column '{c.name}' has unknown category '{v[bad].iloc[0]}', "
                        f"expected one of {c.categories}"
                    )

    def validate_consumption(
        self, df: pd.DataFrame, customer_ids: pd.Series, source: str = "consumption"
    ) -> None:
        spec = self.series
        if spec is None:
            if len(df):
                raise DataError(f"{source}: schema declares no series but consumption has rows")
            return
        need = [self.id_column, "period_start", spec.value]
        missing = [n for n in need if n not in df.columns]
        if missing:
            raise DataError(f"{source}: missing columns {missing}")
        if not pd.api.types.is_datetime64_any_dtype(df["period_start"]):
            raise DataError(f"{source}: column 'period_start' should hold dates")
        kwh = df[spec.value]
        if (kwh < 0).any():
            raise DataError(f"{source}: negative {spec.value} ({float(kwh.min())})")
        # Positions instead of isin / duplicated: a chunk has millions of rows, and two integer
        # codes make the duplicate check one pass when rows come sorted (as written).
        customer = id_positions(df[self.id_column], pd.Index(customer_ids).unique())
        unknown = customer < 0
        if unknown.any():
            raise DataError(
                f"{source}: consumption for unknown customer '{df[self.id_column][unknown].iloc[0]}'"
            )
        period = spec.period_positions(df["period_start"])
        off = period < 0
        if off.any():
            raise DataError(
                f"{source}: irregular period {df['period_start'][off].iloc[0].date()} is not on the "
                f"{spec.frequency} grid starting {spec.start} ({spec.n_periods} periods)"
            )
        key = customer.astype(np.int64) * spec.n_periods + period
        if not (key[1:] > key[:-1]).all() and (np.diff(np.sort(key)) == 0).any():
            raise DataError(f"{source}: duplicated (customer, period_start) rows")


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write via a temp file in the same folder, then rename: no half-written file on failure."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def infer_schema(df: pd.DataFrame, id_column: str, targets: list[str] | None = None) -> Schema:
    """A schema for a plain table (Adult, a user's file without YAML)."""
    targets = targets or []
    cols = []
    for name in df.columns:
        s = df[name]
        nullable = bool(s.isna().any())
        if name == id_column:
            kind = "id"
        elif pd.api.types.is_bool_dtype(s):
            kind = "boolean"
        elif pd.api.types.is_datetime64_any_dtype(s):
            kind = "date"
        elif pd.api.types.is_integer_dtype(s):
            kind = "integer"
        elif pd.api.types.is_numeric_dtype(s):
            v = s.dropna()
            kind = "integer" if len(v) and np.allclose(v, np.round(v)) else "numerical"
        else:
            kind = "categorical"
        col = Column(name=name, kind=kind, nullable=nullable, target=name in targets)
        if kind == "categorical":
            col.categories = sorted(s.dropna().astype(str).unique().tolist())
        if kind in ("numerical", "integer") and s.notna().any():
            col.min, col.max = float(s.min()), float(s.max())
        cols.append(col)
    return Schema(columns=cols, series=None, id_column=id_column)
