"""The synthesizer contract and the registry that maps params.yaml names to classes.

Contract (scikit-learn style: hyper-parameters in ``__init__``, learned state set by ``fit``):

- ``fit(portfolio) -> self``
- ``sample(n, conditions=None, seed=None) -> Portfolio``, in the same two-table layout and
  schema as the training portfolio; ``conditions`` fixes column values, e.g.
  ``{"heating_energy": "heat_pump"}``; the same seed gives the same output.
- ``save(folder)`` / ``load(folder)``.

Subclasses that work on the wide table implement ``_fit_table`` and ``_sample_table``; the base
class does encoding, decoding, seeding and conditioning once for all of them.
"""

from __future__ import annotations

import inspect
import json
import pickle
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from acacia.data.portfolio import Portfolio
from acacia.data.schema import atomic_write_text
from acacia.errors import NotFittedError, ParamsError
from acacia.transforms.table import TableCodec

REGISTRY: dict[str, type[Synthesizer]] = {}
MODEL_FILE = "model.pkl"


def register(name: str):
    def deco(cls: type[Synthesizer]) -> type[Synthesizer]:
        cls.name = name
        REGISTRY[name] = cls
        return cls

    return deco


def make_model(name: str, params: dict[str, Any] | None = None) -> Synthesizer:
    """Build a registered model from its params.yaml section, refusing unknown keys by name."""
    _import_all()
    if name not in REGISTRY:
        raise ParamsError(f"train.models: unknown model '{name}', expected one of {sorted(REGISTRY)}")
    cls = REGISTRY[name]
    params = dict(params or {})
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    unknown = set(params) - accepted
    if unknown:
        raise ParamsError(
            f"train.models.{name}: unknown key(s) {sorted(unknown)}, expected some of {sorted(accepted)}"
        )
    return cls(**params)


def _import_all() -> None:
    # Registration happens on import: importing every module of the package keeps the registry
    # complete (and the common contract tests exhaustive) without a list to maintain.
    import importlib
    import pkgutil

    import acacia.models as package

    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.startswith("_") and info.name != "base":
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

    def get_params(self) -> dict[str, Any]:
        names = set(inspect.signature(type(self).__init__).parameters) - {"self"}
        return {k: getattr(self, k) for k in sorted(names)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        # A model pickled before one of its parameters existed takes that parameter's default,
        # which is the behaviour it was trained and sampled with.
        defaults = {k: p.default for k, p in inspect.signature(type(self).__init__).parameters.items()
                    if k != "self" and p.default is not inspect.Parameter.empty}
        self.__dict__.update({**{k: v for k, v in defaults.items() if k not in state}, **state})

    # ------------------------------------------------------------------ contract
    def fit(self, portfolio: Portfolio) -> Synthesizer:
        self.codec_ = TableCodec(self.series_representation).fit(portfolio)
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
        self._check_fitted()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{MODEL_FILE}.tmp"
        with open(tmp, "wb") as f:
            pickle.dump(self, f)
        tmp.replace(folder / MODEL_FILE)
        atomic_write_text(
            folder / "model.json",
            json.dumps({"model": self.name, "params": self.get_params()}, indent=2),
        )

    @staticmethod
    def load(folder: str | Path) -> Synthesizer:
        path = Path(folder) / MODEL_FILE
        if not path.exists():
            raise NotFittedError(f"no fitted model at {path}; run the train stage first")
        with open(path, "rb") as f:
            return pickle.load(f)
