"""The synthesizer contract and the registry that maps params.yaml names to classes.

Contract (scikit-learn style: hyper-parameters in ``__init__``, learned state set by ``fit``):

- ``fit(portfolio) -> self``
- ``sample(n, conditions=None, seed=None) -> Portfolio``, in the same two-table layout and
  schema as the training portfolio; ``conditions`` fixes column values, e.g.
  ``{"heating_energy": "heat_pump"}``; the same seed gives the same output.
- ``save(folder)`` / ``load(folder)``: a JSON tree, NumPy arrays and torch tensors
  (:mod:`acacia.models.persist`), which reading cannot turn into running code;
- ``get_params()`` / ``set_params(**params)`` / :func:`clone`, and a ``repr`` naming the
  parameters that differ from their defaults; ``__init__`` only stores its arguments, which
  ``fit`` checks (:meth:`Synthesizer.check_params`).

Subclasses that work on the wide table implement ``_fit_table`` and ``_sample_table``; the base
class does encoding, decoding, seeding and conditioning once for all of them.
"""

from __future__ import annotations

import inspect
import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from acacia.data.portfolio import Portfolio
from acacia.data.schema import atomic_write_text
from acacia.errors import DataError, NotFittedError, ParamsError
from acacia.models import persist
from acacia.transforms.table import TableCodec

REGISTRY: dict[str, type[Synthesizer]] = {}
#: the model file of acacia before its safe format: never read (unpickling runs code)
LEGACY_FILE = "model.pkl"


def register(name: str):
    def deco(cls: type[Synthesizer]) -> type[Synthesizer]:
        cls.name = name
        REGISTRY[name] = cls
        return cls

    return deco


def make_model(name: str, params: dict[str, Any] | None = None) -> Synthesizer:
    """Build a registered model from its params.yaml section, refusing unknown keys and values
    by name (so a bad param fails the train stage before any data is read)."""
    _import_model(name)
    if name not in REGISTRY:
        _import_all()
        raise ParamsError(f"train.models: unknown model '{name}', expected one of {sorted(REGISTRY)}")
    cls = REGISTRY[name]
    params = dict(params or {})
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    unknown = set(params) - accepted
    if unknown:
        raise ParamsError(
            f"train.models.{name}: unknown key(s) {sorted(unknown)}, expected some of {sorted(accepted)}"
        )
    model = cls(**params)
    model.check_params()
    return model


def clone(model: Synthesizer) -> Synthesizer:
    """A new, unfitted model with the same parameters (scikit-learn's ``clone``)."""
    return type(model)(**model.get_params())


def _import_model(name: str) -> None:
    # A model's module is named after it: importing that one alone keeps a stage from running
    # (and depending on) every other model's file.
    import importlib
    import importlib.util

    if importlib.util.find_spec(f"acacia.models.{name}") is not None:
        importlib.import_module(f"acacia.models.{name}")


def _import_all() -> None:
    # Registration happens on import: importing every module of the package keeps the registry
    # complete (and the common contract tests exhaustive) without a list to maintain.
    import importlib
    import pkgutil

    import acacia.models as package

    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.startswith("_") and info.name not in ("base", "persist"):
            importlib.import_module(f"acacia.models.{info.name}")


class Synthesizer(ABC):
    name: ClassVar[str] = "base"
    #: which split the train stage fits on; the holdout reference overrides it.
    fit_split: ClassVar[str] = "train"
    #: where a neural model checkpoints during fit (set by the train stage; None = no checkpoints).
    checkpoint_dir: Path | None = None
    #: whether independent ``sample`` calls may be concatenated (chunked sampling at scale); a
    #: model that returns distinct real rows must see the whole request at once.
    chunkable: ClassVar[bool] = True
    #: whether two threads may draw chunks at once: a sampler of NumPy only, which releases the
    #: GIL in its array work and mutates nothing shared (torch models already use every core
    #: inside one call). The series decoder must say the same (``thread_safe_decoding``).
    thread_safe_sampling: ClassVar[bool] = False

    def __init__(self, seed: int = 0, series_representation: str | dict = "flat") -> None:
        self.seed = seed
        self.series_representation = series_representation

    @classmethod
    def _param_names(cls) -> list[str]:
        return sorted(set(inspect.signature(cls.__init__).parameters) - {"self"})

    def get_params(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self._param_names()}

    def set_params(self, **params: Any) -> Synthesizer:
        """Change parameters (a fitted model must be fitted again for them to matter)."""
        unknown = set(params) - set(self._param_names())
        if unknown:
            raise ParamsError(f"{type(self).__name__}: unknown parameter(s) {sorted(unknown)}, "
                              f"expected some of {self._param_names()}")
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def representation(self) -> str | dict:
        """How the series enter the table (``series_representation``; a model may fix it)."""
        return self.series_representation

    def check_params(self) -> None:  # noqa: B027 (a hook: most models have no constraint to check)
        """Raise ParamsError (naming ``train.models.<name>.<key>``) for a parameter value the
        model cannot use; ``fit`` calls it. Subclasses with constraints extend it."""

    def __repr__(self) -> str:
        defaults = {k: p.default for k, p in inspect.signature(type(self).__init__).parameters.items()
                    if p.default is not inspect.Parameter.empty}
        changed = [f"{k}={v!r}" for k, v in self.get_params().items() if k not in defaults or defaults[k] != v]
        return f"{type(self).__name__}({', '.join(changed)})"

    def __getstate__(self) -> dict[str, Any]:
        # Where this machine's run checkpoints is not part of the model (nor of its file).
        return {k: v for k, v in self.__dict__.items() if k != "checkpoint_dir"}

    def _fill_defaults(self) -> None:
        # A model saved before one of its parameters existed takes that parameter's default,
        # which is the behaviour it was trained and sampled with.
        for k, p in inspect.signature(type(self).__init__).parameters.items():
            if k != "self" and p.default is not inspect.Parameter.empty and k not in self.__dict__:
                setattr(self, k, p.default)

    # ------------------------------------------------------------------ contract
    def fit(self, portfolio: Portfolio) -> Synthesizer:
        if not isinstance(portfolio, Portfolio):
            hint = (" Build one with Portfolio.from_frames(customers, consumption)"
                    if isinstance(portfolio, pd.DataFrame) else "")
            raise TypeError(f"{type(self).__name__}.fit expects a Portfolio (customers + consumption + "
                            f"schema), got {type(portfolio).__name__}.{hint}")
        self.check_params()
        self.codec_ = TableCodec(self.representation()).fit(portfolio)
        table = self.codec_.to_table(portfolio)
        self._fit_table(table, self.codec_.kinds, np.random.default_rng(self.seed))
        self.n_fit_ = len(table)
        return self

    def sample(
        self, n: int, conditions: dict[str, Any] | None = None, seed: int | None = None, id_start: int = 0
    ) -> Portfolio:
        """``n`` synthetic customers with their series, ids ``S{id_start + 1:07d}`` onwards
        (a chunk of a larger sample continues its predecessors' ids)."""
        self._check_fitted()
        if not isinstance(n, int | np.integer) or n < 0:
            raise ValueError(f"sample: n must be a non-negative integer, got {n!r}")
        if not isinstance(id_start, int | np.integer) or id_start < 0:
            raise ValueError(f"sample: id_start must be a non-negative integer, got {id_start!r}")
        rng = np.random.default_rng(self.seed if seed is None else seed)
        table = self._sample_conditioned(int(n), conditions or {}, rng)
        return self.codec_.to_portfolio(table.reset_index(drop=True), rng=rng, id_start=int(id_start))

    def _sample_conditioned(
        self, n: int, conditions: dict[str, Any], rng: np.random.Generator
    ) -> pd.DataFrame:
        if not conditions:
            return self._sample_table(n, rng)
        kinds = self.codec_.kinds
        for col in conditions:
            if col not in kinds:
                raise ValueError(f"sample: condition on unknown column '{col}'")
        # Rejection sampling works for every model; models with a native conditional sampler
        # override this method.
        kept: list[pd.DataFrame] = []
        got, tries = 0, 0
        while got < n:
            batch = self._sample_table(max(2 * (n - got), 64), rng)
            mask = np.ones(len(batch), dtype=bool)
            for col, value in conditions.items():
                mask &= batch[col].to_numpy() == value
            kept.append(batch[mask])
            got += int(mask.sum())
            tries += 1
            if tries > 50 and got == 0:
                raise ValueError(f"sample: conditions {conditions} never met; is the value valid?")
        return pd.concat(kept).iloc[:n]

    @abstractmethod
    def _fit_table(self, table: pd.DataFrame, kinds: dict[str, str], rng: np.random.Generator) -> None:
        ...

    @abstractmethod
    def _sample_table(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        ...

    def _check_fitted(self) -> None:
        if not hasattr(self, "codec_"):
            raise NotFittedError(f"{type(self).__name__}: call fit() or load() before sample()")

    # ------------------------------------------------------------------ persistence
    def save(self, folder: str | Path) -> None:
        """``state.json`` + ``arrays.npz`` + ``tensors.pt`` (:mod:`acacia.models.persist`) and
        ``model.json`` (name and params, for people and the release data card)."""
        self._check_fitted()
        folder = Path(folder)
        meta = {"model": self.name, "fit_split": self.fit_split, "params": self.get_params()}
        persist.save_state(self, folder, meta)
        (folder / LEGACY_FILE).unlink(missing_ok=True)
        atomic_write_text(folder / "model.json", json.dumps(
            {"model": self.name, "fit_split": self.fit_split, "params": self.get_params()}, indent=2, default=str))

    @staticmethod
    def load(folder: str | Path) -> Synthesizer:
        folder = Path(folder)
        _check_saved(folder)
        model, meta = persist.load_state(folder)
        if not isinstance(model, Synthesizer):
            raise DataError(f"{folder}: holds a {type(model).__name__}, not a synthesizer")
        model._fill_defaults()
        return model


def _check_saved(folder: Path) -> None:
    if (folder / persist.STATE_FILE).exists():
        return
    if (folder / LEGACY_FILE).exists():
        raise NotFittedError(f"{folder} holds a model saved by an older acacia ({LEGACY_FILE}, not read: "
                             f"unpickling a file can run code); re-train it: dvc repro train@{folder.name}")
    raise NotFittedError(f"no fitted model at {folder}; run the train stage first")
