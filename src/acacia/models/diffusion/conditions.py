"""``sample(conditions={...})`` for the diffusion models that condition natively (TabDiff,
CausalDiffTab, TabDDPM, MTabGen): condition values as the wide table holds them, then as the
pinned scores and codes (:class:`~acacia.models.diffusion.samplers.Known`) of a
:class:`~acacia.transforms.tensor.CodesCodec` layout."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from acacia.models.diffusion.samplers import Known
from acacia.transforms.tensor import CodesCodec

_EPOCH = pd.Timestamp("1970-01-01")


def table_values(conditions: dict[str, Any], kinds: dict[str, str]) -> dict[str, Any]:
    """Each condition value in the wide table's units (dates as days since 1970, null as NaN)."""
    out: dict[str, Any] = {}
    for col, value in conditions.items():
        if col not in kinds:
            raise ValueError(f"sample: condition on unknown column '{col}'")
        if kinds[col] in ("categorical", "boolean"):
            out[col] = value
        elif value is None or (isinstance(value, float) and np.isnan(value)):
            out[col] = np.nan
        elif kinds[col] == "date" and not isinstance(value, int | float | np.number):
            out[col] = float((pd.Timestamp(value) - _EPOCH).days)
        else:
            out[col] = float(value)
    return out


def known_rows(codec: CodesCodec, n: int, values: dict[str, Any]) -> Known:
    """``n`` identical rows pinning ``values`` (from :func:`table_values`); a value the data
    never took is an error naming the column."""
    num = torch.zeros(n, len(codec.numeric_))
    num_mask = torch.zeros(n, len(codec.numeric_), dtype=torch.bool)
    cat = torch.zeros(n, len(codec.slots_), dtype=torch.long)
    cat_mask = torch.zeros(n, len(codec.slots_), dtype=torch.bool)
    for col, v in values.items():
        roles = {s.role: j for j, s in enumerate(codec.slots_) if s.column == col}
        if "categorical" in roles:
            j = roles["categorical"]
            try:
                code = codec.encode_codes(codec.slots_[j], pd.Series([v], dtype=object))
            except ValueError as e:
                raise ValueError(f"sample: condition {col}={v!r} is not a known value ({e})") from e
            cat[:, j], cat_mask[:, j] = int(code[0]), True
            continue
        j = codec.numeric_.index(col)
        null = bool(np.isnan(v))
        if null and "missing" not in roles:
            raise ValueError(f"sample: condition {col}=null, but '{col}' is never null in the data")
        num[:, j] = float(codec.encode_numeric(col, np.array([v]))[0])
        num_mask[:, j] = True
        if "missing" in roles:
            cat[:, roles["missing"]], cat_mask[:, roles["missing"]] = int(null), True
    return Known(num, num_mask, cat, cat_mask)


def encode_conditions(codec: CodesCodec, kinds: dict[str, str], n: int, conditions: dict[str, Any]
                      ) -> tuple[Known, dict[str, Any]]:
    """Both at once: the pinned rows, and the values in table units (to write back exactly)."""
    values = table_values(conditions, kinds)
    return known_rows(codec, n, values), values
