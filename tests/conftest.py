"""Shared fixtures: a tiny mixed-type portfolio built in code (fast, independent of the simulator)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from acacia.data.portfolio import Portfolio
from acacia.data.schema import Column, Schema, SeriesSpec

ROOT = Path(__file__).resolve().parents[1]


def make_tiny_portfolio(n: int = 240, n_periods: int = 12, seed: int = 0) -> Portfolio:
    """Customers with numeric, integer, categorical, boolean, date and nullable columns, and a
    weekly series whose level depends on heating (so dependence is learnable)."""
    rng = np.random.default_rng(seed)
    heating = rng.choice(["electric_direct", "heat_pump", "gas"], size=n, p=[0.3, 0.2, 0.5])
    surface = rng.lognormal(4.3, 0.35, size=n)
    surface[rng.random(n) < 0.1] = np.nan
    ev = pd.array(np.where(rng.random(n) < 0.1, None, rng.random(n) < 0.2), dtype="boolean")
    schema = Schema(
        columns=[
            Column("customer_id", "id"),
            Column("heating_energy", "categorical", categories=["electric_direct", "gas", "heat_pump"]),
            Column("surface_m2", "numerical", nullable=True, min=5.0),
            Column("household_size", "integer", min=1, max=8),
            Column("ev", "boolean", nullable=True),
            Column("contract_start_date", "date"),
            Column("financial_ease", "categorical", nullable=True, target=True,
                   categories=["difficult", "ok", "comfortable"]),
        ],
        series=SeriesSpec(frequency="weekly", start="2019-01-07", n_periods=n_periods),
    )
    fe = rng.choice(["difficult", "ok", "comfortable", None], size=n, p=[0.2, 0.4, 0.3, 0.1])
    customers = pd.DataFrame(
        {
            "customer_id": pd.Series([f"C{i:05d}" for i in range(n)], dtype=str),
            "heating_energy": pd.Series(heating, dtype=str),
            "surface_m2": surface,
            "household_size": pd.array(rng.integers(1, 6, size=n), dtype="Int64"),
            "ev": ev,
            "contract_start_date": pd.Timestamp("2005-01-01")
            + pd.to_timedelta(rng.integers(0, 5000, size=n), unit="D"),
            "financial_ease": pd.Series(fe, dtype=object).astype("str").where(pd.notna(fe), None),
        }
    )
    electric = np.isin(heating, ["electric_direct", "heat_pump"])
    season = 1 + np.cos(np.linspace(0, 2 * np.pi, n_periods))
    level = np.where(electric, 120.0, 45.0) * rng.lognormal(0, 0.2, size=n)
    mat = level[:, None] * (1 + 0.5 * season[None, :] * electric[:, None])
    mat *= rng.lognormal(0, 0.05, size=mat.shape)
    mat[: n // 10, : n_periods // 3] = np.nan  # late joiners
    consumption = Portfolio.consumption_from_matrix(customers["customer_id"], mat, schema)
    return Portfolio(customers, consumption, schema).validate("tiny fixture")


@pytest.fixture(scope="session")
def tiny_portfolio() -> Portfolio:
    return make_tiny_portfolio()
