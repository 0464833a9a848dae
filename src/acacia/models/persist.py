"""Model files that cannot run code when read: a JSON tree, NumPy arrays and torch tensors.

A fitted model travels through a shared DVC remote, so loading it must not execute whatever the
folder holds (as unpickling would). :func:`save_state` writes an object graph as

- ``state.json``: the tree of plain values, lists, dicts and objects, each object as its class
  path and attribute tree;
- ``arrays.npz``: every NumPy array of numbers, text or dates (arrays of Python objects are
  written element by element in the tree instead, and read back with NumPy's default that
  refuses them in an archive);
- ``tensors.pt``: every torch tensor, read back with ``torch.load(weights_only=True)`` (absent
  when the model holds none: torch is then not even imported);
- ``frames/<i>.parquet``: every pandas DataFrame (the holdout reference keeps its table).

:func:`load_state` rebuilds the graph, creating only instances of allowed classes: acacia's own,
torch's ``nn`` modules and scikit-learn's MLP (the two-stage series regressor), restored as Python's
copy protocol restores them (``__new__``, then ``__setstate__`` or the attribute dict) but without
importing or calling anything else; a function (a layer's activation) must be one of torch's activations. A
class or function outside these lists is refused with a :class:`~acacia.errors.DataError`.
"""

from __future__ import annotations

import importlib
import json
import math
import shutil
import sys
import tempfile
import types
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from acacia.errors import DataError

if TYPE_CHECKING:
    import torch

STATE_FILE, ARRAYS_FILE, TENSORS_FILE, FRAMES_DIR = "state.json", "arrays.npz", "tensors.pt", "frames"
FORMAT = "acacia-model/2"
#: Where an allowed class may live (module prefixes).
CLASS_MODULES = ("acacia.", "torch.nn.modules.", "sklearn.neural_network.")
#: Functions a layer may hold as its activation.
FUNCTION_MODULES = ("torch.nn.functional", "torch._C._nn")
TORCH_ACTIVATIONS = frozenset({"relu", "gelu", "silu", "tanh", "sigmoid", "elu", "leaky_relu", "softplus", "mish"})
_PLAIN = (str, int, float, bool, type(None))


class _Writer:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.tensors: dict[str, torch.Tensor] = {}
        self.frames: list[pd.DataFrame] = []
        self.ids: dict[int, int] = {}
        self.keep: list[Any] = []  # ids stay unique while the graph is walked

    def encode(self, obj: Any) -> Any:
        if isinstance(obj, bool | int | str) or obj is None:
            return obj
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"__float__": repr(obj)}
        if id(obj) in self.ids:
            return {"__ref__": self.ids[id(obj)]}
        ref = len(self.ids)
        self.ids[id(obj)] = ref
        self.keep.append(obj)
        return {"__id__": ref, **self._encode_new(obj)}

    def _encode_new(self, obj: Any) -> dict[str, Any]:
        torch = sys.modules.get("torch")  # no tensor can exist before torch is imported
        if torch is not None and isinstance(obj, torch.nn.Parameter):
            return {"__parameter__": self._tensor(obj.detach()), "requires_grad": obj.requires_grad}
        if torch is not None and isinstance(obj, torch.Tensor):
            return {"__tensor__": self._tensor(obj)}
        if isinstance(obj, np.ndarray):
            if obj.dtype.hasobject:
                return {"__objects__": [self.encode(v) for v in obj.ravel().tolist()], "shape": list(obj.shape)}
            key = f"a{len(self.arrays)}"
            self.arrays[key] = obj
            return {"__array__": key}
        if isinstance(obj, np.generic):
            return {"__scalar__": obj.dtype.str, "value": self.encode(obj.item())}
        if isinstance(obj, np.dtype):
            return {"__dtype__": obj.str}
        if isinstance(obj, pd.DataFrame):
            self.frames.append(obj)
            return {"__frame__": len(self.frames) - 1}
        if isinstance(obj, np.random.RandomState):
            name, keys, pos, has_gauss, cached = obj.get_state()
            return {"__random_state__": [name, self.encode(keys), pos, has_gauss, cached]}
        if isinstance(obj, tuple):
            return {"__tuple__": [self.encode(v) for v in obj]}
        if isinstance(obj, list):
            return {"__list__": [self.encode(v) for v in obj]}
        if isinstance(obj, set | frozenset):
            return {"__set__": [self.encode(v) for v in obj], "frozen": isinstance(obj, frozenset)}
        if isinstance(obj, dict):
            kind = "ordered" if type(obj) is OrderedDict else "dict"
            if type(obj) not in (dict, OrderedDict):
                raise DataError(f"cannot save a {type(obj).__name__} (only dict and OrderedDict mappings)")
            return {"__map__": [[self.encode(k), self.encode(v)] for k, v in obj.items()], "kind": kind}
        if isinstance(obj, types.FunctionType | types.BuiltinFunctionType):
            return {"__function__": _function_path(obj)}
        cls = type(obj)
        path = f"{cls.__module__}:{cls.__qualname__}"
        _allowed_class_path(path)
        own_getstate = getattr(cls, "__getstate__", None) is not getattr(object, "__getstate__", None)
        state = obj.__getstate__() if own_getstate else obj.__dict__
        return {"__object__": path, "state": self.encode(state)}

    def _tensor(self, t: torch.Tensor) -> str:
        key = f"t{len(self.tensors)}"
        self.tensors[key] = t.detach().cpu()
        return key


def _function_path(fn: Any) -> str:
    module = getattr(fn, "__module__", None) or ""
    name = getattr(fn, "__name__", "")
    if module == "torch" or module.startswith("torch."):
        for candidate in (*FUNCTION_MODULES, "torch"):
            if getattr(importlib.import_module(candidate), name, None) is fn:
                return f"{candidate}:{name}"
    raise DataError(f"cannot save function {module}.{name}: only torch's activation functions")


def _allowed_class_path(path: str) -> None:
    module = path.split(":")[0]
    if not module.startswith(CLASS_MODULES) and path != "numpy.random.mtrand:RandomState":
        raise DataError(f"refused class {path}: a model file may only hold acacia, torch.nn and "
                        "scikit-learn MLP objects")


def save_state(obj: Any, folder: str | Path, meta: dict[str, Any]) -> None:
    """Write ``obj`` and ``meta`` (JSON-able) into ``folder``, replacing what was there only once
    every file is written."""
    writer = _Writer()
    tree = writer.encode(obj)
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    try:
        (tmp / STATE_FILE).write_text(json.dumps({"format": FORMAT, **meta, "state": tree}, indent=1))
        np.savez(tmp / ARRAYS_FILE, **writer.arrays)
        if writer.tensors:
            import torch

            torch.save(writer.tensors, tmp / TENSORS_FILE)
        for i, frame in enumerate(writer.frames):
            (tmp / FRAMES_DIR).mkdir(exist_ok=True)
            frame.to_parquet(tmp / FRAMES_DIR / f"{i}.parquet")
        for child in tmp.iterdir():
            target = folder / child.name
            folder.mkdir(parents=True, exist_ok=True)
            if target.is_dir():
                shutil.rmtree(target)
            child.replace(target)
        if not writer.tensors:
            (folder / TENSORS_FILE).unlink(missing_ok=True)  # a previous model's
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def read_meta(folder: str | Path) -> dict[str, Any]:
    """The JSON document of a saved model (its ``format`` checked), without rebuilding it."""
    path = Path(folder) / STATE_FILE
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise DataError(f"{path}: unreadable model file ({e})") from e
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise DataError(f"{path}: not an acacia model file of format {FORMAT}")
    return doc


def load_state(folder: str | Path) -> tuple[Any, dict[str, Any]]:
    """The object saved by :func:`save_state` and its meta; DataError names what is refused."""
    folder = Path(folder)
    doc = read_meta(folder)
    try:
        with np.load(folder / ARRAYS_FILE) as npz:
            arrays = {k: npz[k] for k in npz.files}
        tensors = {}
        if (folder / TENSORS_FILE).exists():
            import torch

            tensors = torch.load(folder / TENSORS_FILE, map_location="cpu", weights_only=True)
    except Exception as e:  # a tampered tensors.pt: torch refuses it with UnpicklingError and others
        raise DataError(f"{folder}: unreadable model arrays or tensors ({type(e).__name__}: {e})") from e
    if not isinstance(tensors, dict):
        raise DataError(f"{folder / TENSORS_FILE}: expected a mapping of tensors")
    reader = _Reader(arrays, tensors, folder / FRAMES_DIR)
    return reader.decode(doc["state"]), {k: v for k, v in doc.items() if k != "state"}


class _Reader:
    def __init__(self, arrays: dict[str, np.ndarray], tensors: dict[str, torch.Tensor], frames: Path) -> None:
        self.arrays, self.tensors, self.frames = arrays, tensors, frames
        self.objects: dict[int, Any] = {}

    def decode(self, node: Any) -> Any:
        if isinstance(node, _PLAIN):
            return node
        if not isinstance(node, dict):
            raise DataError(f"model file: unexpected node {str(node)[:80]}")
        if "__ref__" in node:
            return self.objects[node["__ref__"]]
        if "__float__" in node:
            return float(node["__float__"])
        ref = node.get("__id__")
        if "__object__" in node:
            return self._object(node, ref)
        value = self._value(node)
        if ref is not None:
            self.objects[ref] = value
        return value

    def _value(self, node: dict[str, Any]) -> Any:
        if "__parameter__" in node:
            import torch

            return torch.nn.Parameter(self._tensor(node["__parameter__"]), requires_grad=bool(node["requires_grad"]))
        if "__tensor__" in node:
            return self._tensor(node["__tensor__"])
        if "__array__" in node:
            return self.arrays[node["__array__"]]
        if "__objects__" in node:
            out = np.empty(len(node["__objects__"]), dtype=object)
            out[:] = [self.decode(v) for v in node["__objects__"]]
            return out.reshape(node["shape"])
        if "__scalar__" in node:
            return np.dtype(node["__scalar__"]).type(self.decode(node["value"]))
        if "__dtype__" in node:
            return np.dtype(node["__dtype__"])
        if "__frame__" in node:
            return pd.read_parquet(self.frames / f"{int(node['__frame__'])}.parquet")
        if "__random_state__" in node:
            name, keys, pos, has_gauss, cached = node["__random_state__"]
            rs = np.random.RandomState()
            rs.set_state((name, self.decode(keys), pos, has_gauss, cached))
            return rs
        if "__tuple__" in node:
            return tuple(self.decode(v) for v in node["__tuple__"])
        if "__list__" in node:
            return [self.decode(v) for v in node["__list__"]]
        if "__set__" in node:
            items = [self.decode(v) for v in node["__set__"]]
            return frozenset(items) if node.get("frozen") else set(items)
        if "__map__" in node:
            pairs = [(self.decode(k), self.decode(v)) for k, v in node["__map__"]]
            return OrderedDict(pairs) if node.get("kind") == "ordered" else dict(pairs)
        if "__function__" in node:
            return _resolve_function(node["__function__"])
        raise DataError(f"model file: unknown node {sorted(node)}")

    def _tensor(self, key: str) -> torch.Tensor:
        if key not in self.tensors:
            raise DataError(f"model file: tensor {key} missing from {TENSORS_FILE}")
        return self.tensors[key]

    def _object(self, node: dict[str, Any], ref: int | None) -> Any:
        cls = _resolve_class(node["__object__"])
        obj = cls.__new__(cls)
        if ref is not None:
            self.objects[ref] = obj  # before its state: a child may refer back to it
        state = self.decode(node["state"])
        if getattr(cls, "__setstate__", None) is not getattr(object, "__setstate__", None):
            obj.__setstate__(state)
        elif isinstance(state, dict):
            obj.__dict__.update(state)
        else:
            raise DataError(f"model file: {node['__object__']} has no attribute mapping")
        return obj


def _resolve_class(path: str) -> type:
    _allowed_class_path(path)
    module, _, qualname = path.partition(":")
    try:
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as e:
        raise DataError(f"model file: class {path} not found ({e}); was the model saved by another version?") from e
    if not isinstance(obj, type) or obj.__module__ != module or obj.__qualname__ != qualname:
        raise DataError(f"refused {path}: not a class defined there")
    return obj


def _resolve_function(path: str) -> Any:
    module, _, name = path.partition(":")
    allowed = module in FUNCTION_MODULES or (module == "torch" and name in TORCH_ACTIVATIONS)
    fn = getattr(importlib.import_module(module), name, None) if allowed else None
    if fn is None or not callable(fn) or isinstance(fn, type):
        raise DataError(f"refused function {path}: a model file may only name torch's activation functions")
    return fn
