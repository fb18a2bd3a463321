"""The per-example scores selectors rank by: loss, entropy and the cross-entropy gradient's norm."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F
from torch import Tensor

from .checks import check_choice

Extras = Mapping[str, Tensor]


def loss_score(logits: Tensor, targets: Tensor) -> Tensor:
    """Per-example cross-entropy loss."""
    return F.cross_entropy(logits.float(), targets, reduction="none")


def entropy_score(logits: Tensor, targets: Tensor) -> Tensor:
    """Entropy of the predicted distribution (paper H's SBE score); ignores the targets."""
    log_p = F.log_softmax(logits.float(), dim=1)
    return -(log_p.exp() * log_p).sum(1)


def grad_norm_score(logits: Tensor, targets: Tensor, feature_norm: Tensor | None = None) -> Tensor:
    """Norm of the cross-entropy gradient: with respect to the logits, ‖p − y‖ (paper M's
    reference code; the upper bound of Katharopoulos & Fleuret 2018), or with ``feature_norm``
    (‖h‖ of the head's input) with respect to a linear head z = W h + c, whose gradient
    (p − y) hᵀ and p − y has norm ‖p − y‖ · sqrt(‖h‖² + 1).
    """
    residual = torch.softmax(logits.float(), dim=1)
    residual = residual - F.one_hot(targets, logits.shape[1]).to(residual.dtype)
    norm = residual.norm(dim=1)
    return norm if feature_norm is None else norm * (feature_norm.float().square() + 1).sqrt()


#: what a gradient-norm selector takes the norm of: ``logits`` (‖p − y‖, paper M's reference
#: code) or ``last_layer`` (the exact gradient norm of the head's weights and bias)
GRAD_NORMS = ("logits", "last_layer")


class GradNormScore:
    """Mixin of the gradient-norm selectors: ``norm`` picks one of :data:`GRAD_NORMS`."""

    norm: str = "logits"

    def check_norm(self, norm: str) -> None:
        check_choice("norm", norm, list(GRAD_NORMS))
        self.norm = norm

    @property
    def wants(self) -> tuple[str, ...]:
        return ("feature_norm",) if self.norm == "last_layer" else ()

    def grad_norms(self, logits: Tensor, targets: Tensor, extras: Extras | None) -> Tensor:
        if self.norm == "logits":
            return grad_norm_score(logits, targets)
        if extras is None or "feature_norm" not in extras:
            raise ValueError(
                f"norm='last_layer' needs extras['feature_norm'] (‖h‖ of the head's input); got {sorted(extras or {})}"
            )
        return grad_norm_score(logits, targets, extras["feature_norm"])


SCORES: dict[str, Callable[[Tensor, Tensor], Tensor]] = {"loss": loss_score, "entropy": entropy_score}
