"""The representation ceiling of a study: what a generator could keep at best through the way it
writes the series.

A tabular model with ``series_representation: compressed`` (or ``responses``) generates each
customer's level, component scores (and responses to known inputs), noise scale and read window,
and a decoder turns them into a curve. A perfect
generator of those columns would reproduce real customers' columns exactly and still lose what
the round trip loses. The ceiling portfolio is the real holdout (customers no model saw) with its
series encoded then decoded by the representation fitted on the train split, as the models fit
it. A conclusion the ceiling already loses is the representation's fault; one the ceiling keeps
and a generator loses is the generator's.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from acacia.data.portfolio import Portfolio
from acacia.transforms.series import CompressedSeries, FlatSeries, make_series_representation

#: the decoder draws each curve's noise: one fixed seed, so the ceiling is the same at every run
SEED = 0
PREFIX = "ceiling"


def representations(model_params: dict[str, Any]) -> dict[str, Any]:
    """The series representations the models of ``train.models`` declare, by ceiling source name
    (``ceiling`` for the one most use, ``ceiling_<name>`` beside it for others). Only
    representations whose decoder is a fixed function of the columns have a ceiling: the flat one
    is exact, and a conditional generator of the series (``two_stage``) is a model of its own."""
    found: dict[str, Any] = {}
    counts: dict[str, int] = {}
    for params in model_params.values():
        spec = (params or {}).get("series_representation") if isinstance(params, dict) else None
        if spec is None or not isinstance(make_series_representation(spec), CompressedSeries):
            continue
        key = json.dumps(spec, sort_keys=True)
        found.setdefault(key, spec)
        counts[key] = counts.get(key, 0) + 1
    ordered = sorted(found, key=lambda k: -counts[k])
    return {PREFIX if i == 0 else f"{PREFIX}_{_label(found[k])}": found[k] for i, k in enumerate(ordered)}


def _label(spec: Any) -> str:
    if isinstance(spec, str):
        return spec
    # the name and the scalar options (not the event windows or table paths)
    scalars = [str(spec[k]) for k in sorted(spec) if k not in ("name", "temperature", "calendar")
               and isinstance(spec[k], int | float | str)]
    return "_".join([str(spec.get("name")), *scalars])


def ceiling_portfolio(train: Portfolio, holdout: Portfolio, spec: Any) -> Portfolio:
    """The holdout's customers with their series round-tripped through ``spec`` fitted on ``train``."""
    representation = make_series_representation(spec)
    if isinstance(representation, FlatSeries):
        return holdout
    periods = train.schema.series.periods
    representation.fit(train.series_matrix(), train.customers.reset_index(drop=True), None, periods)
    matrix = holdout.series_matrix()
    static = holdout.customers.reset_index(drop=True)
    columns = representation.to_columns(matrix, static)
    # the decoder reads the customers' zone (responses) beside the series columns
    decoded = representation.from_columns(pd.concat([static, columns], axis=1), np.random.default_rng(SEED))
    schema = holdout.schema
    consumption = Portfolio.consumption_from_matrix(holdout.customers[schema.id_column], decoded, schema)
    return Portfolio(holdout.customers, consumption, schema)


def ceilings(train: Portfolio, holdout: Portfolio, model_params: dict[str, Any]) -> dict[str, Portfolio]:
    """One ceiling portfolio per representation the models use (:func:`representations`)."""
    if train.schema.series is None:
        return {}
    return {name: ceiling_portfolio(train, holdout, spec) for name, spec in representations(model_params).items()}
