"""Causal-structure estimation for CausalDiffTab (Zhang et al. 2025): NOTEARS (Zheng et al.,
NeurIPS 2018) and its nonlinear, MLP form (Zheng et al., AISTATS 2020).

Both learn a weighted adjacency W (W[i, j] ≠ 0: i causes j) by continuous optimisation of a
least-squares fit plus sparsity penalties, under the smooth acyclicity constraint
h(W) = tr(exp(W ∘ W)) − d = 0, enforced by an augmented Lagrangian: inner problems solved by
L-BFGS-B (non-negative positive/negative parts make the ℓ1 penalty smooth), the penalty ρ raised
tenfold while h does not shrink by a factor 4, the multiplier α updated by ρ·h.

In the MLP form each variable j is predicted by its own one-hidden-layer network (sigmoid) from
all the others; the strength of i → j is the ℓ2 norm of the first-layer weights from input i
into network j.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import minimize


class _Problem:
    """Flat-parameter view of a NOTEARS model, for scipy's L-BFGS-B (float64 throughout)."""

    def __init__(self, x: np.ndarray, nonlinear: bool, hidden: int, lambda1: float, lambda2: float,
                 rng: np.random.Generator) -> None:
        self.x = torch.from_numpy(np.asarray(x, dtype=np.float64))
        self.n, self.d = self.x.shape
        self.nonlinear, self.m = nonlinear, hidden
        self.lambda1, self.lambda2 = lambda1, lambda2
        d, m = self.d, hidden
        rows = d * m if nonlinear else d
        # First layer (or W itself) as positive − negative parts; self-loops pinned at 0.
        self.shapes = {"pos": (rows, d), "neg": (rows, d)}
        if nonlinear:
            self.shapes |= {"b1": (rows,), "w2": (d, m), "b2": (d,)}
        sizes = [int(np.prod(s)) for s in self.shapes.values()]
        self.offsets = np.cumsum([0, *sizes])
        self.theta = np.zeros(self.offsets[-1])
        if nonlinear:  # the second layer needs a random start to break the symmetry of hidden units
            lo, hi = self.offsets[3], self.offsets[4]
            self.theta[lo:hi] = rng.uniform(-1, 1, hi - lo) / np.sqrt(m)
        self_loop = np.zeros((rows, d), dtype=bool)
        for j in range(d):
            self_loop[j * m : (j + 1) * m, j] = True if nonlinear else False
            if not nonlinear:
                self_loop[j, j] = True
        bound = [(0.0, 0.0) if s else (0.0, None) for s in self_loop.ravel()]
        self.bounds = bound + bound + [(None, None)] * (len(self.theta) - 2 * len(bound))

    def unpack(self, theta: torch.Tensor) -> dict[str, torch.Tensor]:
        return {k: theta[self.offsets[i] : self.offsets[i + 1]].view(s)
                for i, (k, s) in enumerate(self.shapes.items())}

    def squared_adjacency(self, p: dict[str, torch.Tensor]) -> torch.Tensor:
        """(W ∘ W)[i, j]: squared strength of i → j."""
        w1 = p["pos"] - p["neg"]
        if not self.nonlinear:
            return w1**2
        return (w1.view(self.d, self.m, self.d) ** 2).sum(1).T

    def h(self, p: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.trace(torch.linalg.matrix_exp(self.squared_adjacency(p))) - self.d

    def fit_loss(self, p: dict[str, torch.Tensor]) -> torch.Tensor:
        w1 = p["pos"] - p["neg"]
        if self.nonlinear:
            hid = torch.sigmoid(self.x @ w1.T + p["b1"]).view(self.n, self.d, self.m)
            pred = (hid * p["w2"]).sum(-1) + p["b2"]
            l2 = 0.5 * self.lambda2 * ((w1**2).sum() + (p["w2"] ** 2).sum())
        else:
            pred, l2 = self.x @ w1, 0.0
        return 0.5 / self.n * ((pred - self.x) ** 2).sum() + l2 + self.lambda1 * (p["pos"] + p["neg"]).sum()

    def objective(self, theta: np.ndarray, rho: float, alpha: float) -> tuple[float, np.ndarray]:
        t = torch.from_numpy(theta).requires_grad_(True)
        p = self.unpack(t)
        h = self.h(p)
        obj = self.fit_loss(p) + 0.5 * rho * h * h + alpha * h
        obj.backward()
        return float(obj.detach()), t.grad.numpy().copy()

    def adjacency(self) -> np.ndarray:
        with torch.no_grad():
            return self.squared_adjacency(self.unpack(torch.from_numpy(self.theta))).sqrt().numpy()


def notears(x: np.ndarray, nonlinear: bool = True, hidden: int = 10, lambda1: float = 0.01,
            lambda2: float = 0.01, max_iter: int = 50, inner_iter: int = 500, h_tol: float = 1e-8,
            rho_max: float = 1e16, seed: int = 0) -> np.ndarray:
    """Weighted adjacency (d × d, zero diagonal) of the DAG NOTEARS fits to ``x`` (rows × variables)."""
    x = np.asarray(x, dtype=np.float64)
    if x.shape[1] < 2:
        return np.zeros((x.shape[1], x.shape[1]))
    prob = _Problem(x, nonlinear, hidden, lambda1, lambda2, np.random.default_rng(seed))
    rho, alpha, h = 1.0, 0.0, np.inf
    for _ in range(max_iter):
        while rho < rho_max:
            res = minimize(prob.objective, prob.theta, args=(rho, alpha), jac=True, method="L-BFGS-B",
                           bounds=prob.bounds, options={"maxiter": inner_iter})
            with torch.no_grad():
                h_new = float(prob.h(prob.unpack(torch.from_numpy(res.x))))
            prob.theta = res.x
            if h_new > 0.25 * h:
                rho *= 10
            else:
                break
        alpha += rho * h_new
        h = h_new
        if h <= h_tol or rho >= rho_max:
            break
    return prob.adjacency()


def one_hot_nodes(codes: np.ndarray, n_levels: list[int], width: int) -> tuple[np.ndarray, np.ndarray]:
    """Categorical codes as the indicator variables the causal search runs on, and where each
    indicator sits in the flattened (column, class) layout of width ``width`` per column.

    A two-level column becomes one indicator (its second level): the first is its complement,
    a perfectly predictable variable that would only attract spurious edges.
    """
    cols, index = [], []
    for j, k in enumerate(n_levels):
        for level in range(1 if k == 2 else 0, k):
            cols.append(codes[:, j] == level)
            index.append(j * width + level)
    x = np.stack(cols, axis=1).astype(np.float64) if cols else np.zeros((len(codes), 0))
    return x, np.asarray(index, dtype=np.int64)
