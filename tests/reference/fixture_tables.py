"""Two small tables (a "real" and a shifted "synthetic" one) for the reference-package checks.

Plain numpy + pandas that runs unchanged under pandas 2 and 3, so the script that computes the
reference values in a separate environment (``make_references.py``, with sdmetrics / anonymeter
and their older pins) and the tests (this project's environment) build the same tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

KINDS = {
    "heating_energy": "categorical",
    "surface_m2": "numerical",
    "household_size": "integer",
    "ev": "boolean",
    "contract_start_date": "date",
    "annual_kwh": "numerical",
}


def make_table(n: int, seed: int, shift: float = 0.0, with_nulls: bool = False) -> pd.DataFrame:
    """``shift`` moves the numeric columns and the category mix, so real and synthetic differ."""
    rng = np.random.default_rng(seed)
    heating = rng.choice(["electric", "gas", "heat_pump", "wood"], size=n,
                         p=np.array([0.35 + shift, 0.4, 0.15, 0.1 - shift]))
    surface = rng.lognormal(4.3 + shift, 0.35, size=n).round(1)
    size = rng.integers(1, 6, size=n)
    electric = heating != "gas"
    kwh = (surface * np.where(electric, 90.0, 35.0) * (1 + 0.1 * size) * rng.lognormal(shift, 0.3, size=n)).round(0)
    ev = rng.random(n) < 0.15 + shift
    start = pd.Timestamp("2005-01-01") + pd.to_timedelta(rng.integers(0, 5000, size=n), unit="D")
    table = pd.DataFrame({
        "heating_energy": heating.astype(object),
        "surface_m2": surface,
        "household_size": size.astype(np.int64),
        "ev": ev,
        "contract_start_date": pd.Series(start).astype("datetime64[ns]"),
        "annual_kwh": kwh,
    })
    if with_nulls:
        table["surface_m2"] = table["surface_m2"].where(rng.random(n) > 0.1)
        table["heating_energy"] = table["heating_energy"].where(rng.random(n) > 0.05)
    return table


def pair(with_nulls: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    return make_table(400, seed=0, with_nulls=with_nulls), make_table(300, seed=1, shift=0.05, with_nulls=with_nulls)


def leaky_triple(n: int = 400, n_control: int = 400, leak: float = 0.5,
                 seed: int = 10) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Original, synthetic and control tables for the privacy attacks, without nulls.

    Original and control are two samples of the same population; the synthetic table has ``n``
    rows, a share ``leak`` of them copies of original rows (the planted leak), the rest fresh
    draws from the population, so every attack's risk sits far from 0 (``leak=0``: near 0).
    """
    rng = np.random.default_rng(seed)
    ori = make_table(n, seed=seed + 1)
    # A smaller control set is the head of the full-size one: the sizes differ, not the people.
    control = make_table(max(n, n_control), seed=seed + 2).head(n_control)
    n_copies = int(round(leak * n))
    copies = ori.iloc[np.sort(rng.choice(n, n_copies, replace=False))]
    fresh = make_table(n - n_copies, seed=seed + 3)
    syn = pd.concat([copies, fresh], ignore_index=True)
    return ori, syn.iloc[rng.permutation(n)].reset_index(drop=True), control
