"""TabDiff's joint training objective (Shi et al., ICLR 2025, eq. 9–11) and CausalDiffTab's
causal regulariser (Zhang et al. 2025).

- Numerical part: the EDM denoising loss with weight λ(σ) = (σ² + σ_data²) / (σ σ_data)², which
  makes every noise level contribute at unit scale once preconditioned.
- Categorical part: the continuous-time masked-diffusion ELBO, −σ'(t) / (e^{σ(t)} − 1) ·
  log p_θ(x₀ | x_t), non-zero only on masked tokens (unmasked ones are copied, log p = 0).
- Joint: λ_cat · L_cat + λ_num(epoch) · L_num; TabDiff anneals λ_num linearly from 1 to 0 over
  training. The validation loss is the unweighted sum, so that it is comparable across epochs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Terms:
    """One batch's loss terms, plus what the causal regulariser reads."""

    num: torch.Tensor  # mean EDM loss over rows × numerical columns
    cat: torch.Tensor  # mean masked-diffusion loss over rows × categorical columns
    eps_hat: torch.Tensor  # (b, n_num) noise the model implies: (x_t − D(x_t)) / σ
    cat_probs: torch.Tensor  # (b, n_cat, K_max + 1) predicted p(x₀ | x_t) per column


def edm_loss(denoised: torch.Tensor, x0: torch.Tensor, sigma: torch.Tensor,
             sigma_data: float = 1.0) -> torch.Tensor:
    weight = (sigma**2 + sigma_data**2) / (sigma * sigma_data) ** 2
    return weight * (denoised - x0) ** 2


def masked_diffusion_loss(log_probs: torch.Tensor, x0: torch.Tensor, sigma: torch.Tensor,
                          rate: torch.Tensor) -> torch.Tensor:
    """Per-token ELBO term; ``log_probs`` (b, c, width) already copy unmasked tokens."""
    log_p_x0 = log_probs.gather(-1, x0[..., None]).squeeze(-1)
    return -rate / torch.expm1(sigma) * log_p_x0


def num_weight(c_lambda: float, schedule: str, progress: float) -> float:
    """Weight of the numerical loss at a given fraction of training ("anneal": 1 → 0)."""
    if schedule == "anneal":
        return c_lambda * (1.0 - progress)
    if schedule == "fixed":
        return c_lambda
    raise ValueError(f"closs_schedule: expected 'anneal' or 'fixed', got {schedule!r}")


def joint_loss(terms: Terms, c_weight: float, d_weight: float) -> torch.Tensor:
    return d_weight * terms.cat + c_weight * terms.num


def causal_regularizer(terms: Terms, num_graph: torch.Tensor | None, cat_graph: torch.Tensor | None,
                       cat_index: torch.Tensor | None) -> torch.Tensor:
    """CausalDiffTab's regulariser: along every estimated edge i → j, the product of what the
    denoiser predicts for i and j — the implied noise ε̂ for numerical columns, the class
    probabilities for categorical ones — averaged over rows and all column pairs, so that the
    predictions of causally linked columns do not co-move beyond what the data imply.

    ``cat_graph`` is over category levels; ``cat_index`` picks those levels out of the flattened
    (column, class) probabilities.
    """
    total = terms.num.new_zeros(())
    if num_graph is not None and num_graph.numel() and terms.eps_hat.shape[1]:
        e = terms.eps_hat
        total = total + torch.einsum("bi,ij,bj->", e, num_graph, e) / (len(e) * num_graph.numel())
    if cat_graph is not None and cat_graph.numel() and cat_index is not None:
        p = terms.cat_probs.flatten(1)[:, cat_index]
        total = total + torch.einsum("bi,ij,bj->", p, cat_graph, p) / (len(p) * cat_graph.numel())
    return total
