"""CausalDiffTab (Zhang et al., "CausalDiffTab: Mixed-Type Causal-Aware Diffusion for Tabular
Data Generation", 2025, arXiv 2506.14206): TabDiff plus a causal prior, a NOTEARS graph
estimated once before training and a hybrid causal regulariser fused in with an adaptive weight.
``causal: false`` gives exactly TabDiff on the same data and budget.

Details, deviations from the paper and settings: docs/models.md#causal_diff_tab.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import torch

from acacia.errors import ParamsError
from acacia.models.base import register
from acacia.models.diffusion import MixedDiffusion, losses
from acacia.models.diffusion.causal import notears, one_hot_nodes
from acacia.models.diffusion.synthesizer import MixedDiffusionSynthesizer


class CausalMixedDiffusion(MixedDiffusion):
    """:class:`MixedDiffusion` with the causal regulariser as its penalty."""

    def __init__(self, *args, causal_weight: float = 1.0, causal_warmup: float = 0.5, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.causal_weight, self.causal_warmup = causal_weight, causal_warmup
        self.register_buffer("num_graph", torch.zeros(self.n_num, self.n_num))
        self.register_buffer("cat_graph", torch.zeros(0, 0))
        self.register_buffer("cat_index", torch.zeros(0, dtype=torch.long))

    def set_graphs(self, num_graph: np.ndarray, cat_graph: np.ndarray, cat_index: np.ndarray) -> None:
        self.num_graph = torch.as_tensor(num_graph, dtype=torch.float32)
        self.cat_graph = torch.as_tensor(cat_graph, dtype=torch.float32)
        self.cat_index = torch.as_tensor(cat_index, dtype=torch.long)

    def weight(self) -> float:
        """Half-cosine warm-up from 0 to ``causal_weight`` (full weight outside training)."""
        warmup = self.causal_warmup * self.max_epochs
        if not self.training or warmup <= 0:
            return self.causal_weight
        done = min(self.epoch() / warmup, 1.0)
        return self.causal_weight * 0.5 * (1 - math.cos(math.pi * done))

    def penalty(self, terms: losses.Terms) -> torch.Tensor:
        w = self.weight()
        if w == 0:
            return terms.num.new_zeros(())
        return w * losses.causal_regularizer(terms, self.num_graph, self.cat_graph, self.cat_index)


@register("causal_diff_tab")
class CausalDiffTab(MixedDiffusionSynthesizer):
    def __init__(
        self,
        *args,
        causal: bool = True,
        causal_weight: float = 1.0,
        causal_warmup: float = 0.5,
        causal_method: str = "nonlinear",
        causal_hidden: int = 10,
        causal_lambda1: float = 0.01,
        causal_lambda2: float = 0.01,
        causal_max_iter: int = 50,
        causal_inner_iter: int = 500,
        causal_threshold: float = 0.1,
        causal_max_rows: int = 10_000,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.causal, self.causal_weight, self.causal_warmup = causal, causal_weight, causal_warmup
        self.causal_method, self.causal_hidden = causal_method, causal_hidden
        self.causal_lambda1, self.causal_lambda2 = causal_lambda1, causal_lambda2
        self.causal_max_iter, self.causal_inner_iter = causal_max_iter, causal_inner_iter
        self.causal_threshold, self.causal_max_rows = causal_threshold, causal_max_rows

    # make_model and get_params read the constructor's signature: expose TabDiff's parameters
    # next to the causal ones instead of an opaque *args / **kwargs.
    __init__.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        *inspect.signature(MixedDiffusionSynthesizer.__init__).parameters.values(),
        *(p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
          for name, p in inspect.signature(__init__).parameters.items() if name.startswith("causal")),
    ])

    def check_params(self) -> None:
        super().check_params()
        if self.causal_method not in ("nonlinear", "linear"):
            raise ParamsError(f"train.models.{self.name}.causal_method: expected 'nonlinear' or 'linear', "
                              f"got {self.causal_method!r}")

    def _build_module(self, data: torch.Tensor) -> MixedDiffusion:
        if not self.causal:
            return super()._build_module(data)
        # Same constructor arguments in the same order as TabDiff's module: identical initial
        # weights, so the regulariser is the only difference between the two.
        module = CausalMixedDiffusion(len(self.codes_.numeric_), self.codes_.n_levels, self.codes_.attach,
                                      causal_weight=self.causal_weight, causal_warmup=self.causal_warmup,
                                      **self._network_params())
        with torch.random.fork_rng(devices=[]):
            module.set_graphs(*self._estimate_graphs(data, module.width))
        return module

    def _estimate_graphs(self, data: torch.Tensor, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rng = np.random.default_rng(self.seed)
        rows = rng.permutation(len(data))[: self.causal_max_rows]
        x = data[rows].numpy().astype(np.float64)
        n_num = len(self.codes_.numeric_)
        cat_x, cat_index = one_hot_nodes(x[:, n_num:].round().astype(np.int64), self.codes_.n_levels, width)
        options = {"nonlinear": self.causal_method == "nonlinear", "hidden": self.causal_hidden,
                   "lambda1": self.causal_lambda1, "lambda2": self.causal_lambda2,
                   "max_iter": self.causal_max_iter, "inner_iter": self.causal_inner_iter, "seed": self.seed}
        # Weighted adjacencies are kept for inspection; the regulariser uses the thresholded graphs.
        self.causal_num_ = notears(x[:, :n_num], **options)
        self.causal_cat_ = notears(cat_x, **options)
        self.causal_cat_index_ = cat_index
        num_graph = (self.causal_num_ > self.causal_threshold).astype(np.float32)
        cat_graph = (self.causal_cat_ > self.causal_threshold).astype(np.float32)
        return num_graph, cat_graph, cat_index
