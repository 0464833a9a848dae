"""Reading params.yaml with errors that name the key and what was expected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from acacia.errors import ParamsError

_MISSING = object()


def load_params(path: str | Path = "params.yaml") -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        raise ParamsError(f"{path} not found: run from the project root or pass --params")
    try:
        params = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise ParamsError(f"{path} is not valid YAML: {e}") from e
    if not isinstance(params, dict):
        raise ParamsError(f"{path}: expected a mapping of sections at the top level")
    return params


def get(params: dict[str, Any], key: str, expected: type | tuple[type, ...] | None = None,
        default: Any = _MISSING) -> Any:
    """``get(params, "sample.seed", int)``: the value at a dotted key, type-checked."""
    node: Any = params
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            if default is not _MISSING:
                return default
            raise ParamsError(f"params.yaml: missing key '{key}'")
        node = node[part]
    if expected is not None and node is not None and not isinstance(node, expected):
        names = expected.__name__ if isinstance(expected, type) else "/".join(t.__name__ for t in expected)
        raise ParamsError(f"params.yaml: '{key}' should be {names}, got {node!r}")
    return node
