"""Measurements a run takes besides training, each switched on by its own config setting.

- :func:`gradient_similarity` (``probe_every``): paper J's Fig. 5, how well the gradient of a
  subsample of a batch (its top-loss half or third, or a random one of the same size) points
  where the whole batch's gradient points.
- :func:`target_confidences` (``confidence_epochs``): paper J's Fig. 8/9, the softmax
  probability of the true class for every test example, and whether it is classified right.
- :class:`Tracker` (``track_examples``): paper J's Fig. 15, the selection probability of a few
  training examples every time they are candidates.
- :func:`score_concentration` (``score_probe_every``): paper M's Fig. 1, how each selection
  function's scores concentrate within a candidate batch and how many corrupted points its top
  picks hold, all on the same batches of one RHO-LOSS run.

The training loop bills their time to the ``probe`` phase, which training wall-clock leaves out.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .batches import BatchIterator
from .precision import autocast
from .scores import grad_norm_score, loss_score

SUBSAMPLES = {"half": 1 / 2, "third": 1 / 3}


def gradient_similarity(
    model: nn.Module, inputs: Tensor, labels: Tensor, generator: torch.Generator, amp: bool
) -> dict[str, float]:
    """Cosine similarity and share of same-sign components between the gradient of the whole
    batch's mean loss and that of each subsample (top-loss or random half and third).

    The forward runs in eval mode (no batch-norm statistics move, no dropout) and gradients go
    through :func:`torch.autograd.grad`, so the probe leaves the training state untouched.
    """
    was_training = model.training
    model.eval()
    parameters = [p for p in model.parameters() if p.requires_grad]
    with autocast(inputs.device, amp):
        logits = model(inputs)
    losses = F.cross_entropy(logits.float(), labels, reduction="none")

    def gradient(positions: Tensor) -> Tensor:
        parts = torch.autograd.grad(losses[positions].mean(), parameters, retain_graph=True, allow_unused=True)
        return torch.cat([(g if g is not None else torch.zeros_like(p)).flatten() for g, p in zip(parts, parameters)])

    count = losses.numel()
    everyone = torch.arange(count, device=inputs.device)
    full = gradient(everyone)
    by_loss = losses.detach().argsort(descending=True)
    shuffled = torch.randperm(count, generator=generator, device=generator.device).to(inputs.device)
    result = {}
    for name, share in SUBSAMPLES.items():
        size = max(1, round(share * count))
        for kind, order in (("top", by_loss), ("random", shuffled)):
            part = gradient(order[:size])
            result[f"cosine_{kind}_{name}"] = float(F.cosine_similarity(part, full, dim=0))
            result[f"same_sign_{kind}_{name}"] = float((part.sign() == full.sign()).float().mean())
    model.train(was_training)
    return result


def target_confidences(model: nn.Module, batches: BatchIterator, amp: bool) -> tuple[list[float], list[int]]:
    """(softmax probability of the true class, 1 if the argmax is right) for every example, in order."""
    was_training = model.training
    model.eval()
    confidences, correct = [], []
    with torch.no_grad(), autocast(batches.device, amp):
        for batch in batches.epoch(0):
            logits = model(batch.inputs).float()
            confidences.append(logits.softmax(1).gather(1, batch.labels[:, None]).flatten())
            correct.append(logits.argmax(1) == batch.labels)
    model.train(was_training)
    return [round(v, 5) for v in torch.cat(confidences).tolist()], torch.cat(correct).int().tolist()


class Tracker:
    """Follows ``count`` training examples (chosen by ``seed``): per candidate appearance, the
    epoch, step, score, selection probability (``None`` where the selector has none) and whether
    it was chosen. ``entries`` maps each tracked position (as a string, for JSON) to its rows."""

    def __init__(self, num_examples: int, count: int, seed: int, device: torch.device) -> None:
        generator = torch.Generator().manual_seed(seed)
        positions = torch.randperm(num_examples, generator=generator)[: min(count, num_examples)].sort().values
        self.mask = torch.zeros(num_examples, dtype=torch.bool, device=device)
        self.mask[positions.to(device)] = True
        self.entries: dict[str, list[list]] = {str(p): [] for p in positions.tolist()}

    def observe(
        self, epoch: int, step: int, indices: Tensor, scores: Tensor, probabilities: Tensor | None, chosen: Tensor
    ) -> None:
        """Note the tracked examples among ``indices`` (one host sync per candidate batch)."""
        hits = self.mask[indices].nonzero().flatten()
        if hits.numel() == 0:
            return
        picked = torch.zeros(indices.numel(), dtype=torch.int64, device=indices.device).index_add_(
            0, chosen, torch.ones_like(chosen)
        )
        for position, score, probability, times in zip(
            indices[hits].tolist(),
            scores[hits].tolist(),
            [None] * hits.numel() if probabilities is None else probabilities[hits].tolist(),
            picked[hits].tolist(),
        ):
            self.entries[str(position)].append(
                [
                    epoch,
                    step,
                    None if score != score else round(score, 5),
                    None if probability is None else round(probability, 5),
                    times,
                ]
            )


def selection_scores(logits: Tensor, targets: Tensor, irreducible: Tensor) -> dict[str, Tensor]:
    """Paper M's four selection functions as non-negative scores, highest picked first:
    reducible loss (clipped at 0), irreducible loss as exp(−IL) (the IL model's probability of
    the label, so the lowest IL ranks first), loss, and gradient norm ‖p − y‖."""
    loss = loss_score(logits, targets)
    irreducible = irreducible.float()
    return {
        "reducible": (loss - irreducible).clamp_min(0),
        "irreducible": torch.exp(-irreducible),
        "loss": loss,
        "grad_norm": grad_norm_score(logits, targets),
    }


def score_concentration(
    logits: Tensor, targets: Tensor, irreducible: Tensor, corrupted: Tensor, top: float = 0.2, pick: float = 0.1
) -> dict[str, float]:
    """For each of :func:`selection_scores` on one candidate batch: ``top_<f>``, the share of the
    batch's summed score held by its ``top`` highest-scoring points (paper M's Fig. 1 left), and
    ``noisy_<f>``, the share of corrupted points among its ``pick`` highest (Fig. 1 right);
    ``noisy_batch`` is the batch's own corrupted share."""
    count = targets.numel()
    keep_top, keep_pick = max(1, round(top * count)), max(1, round(pick * count))
    names, values = ["noisy_batch"], [corrupted.float().mean()]
    for name, score in selection_scores(logits, targets, irreducible).items():
        ordered = score.sort(descending=True).values
        names += [f"top_{name}", f"noisy_{name}"]
        values += [
            ordered[:keep_top].sum() / ordered.sum().clamp_min(1e-12),
            corrupted[score.topk(keep_pick).indices].float().mean(),
        ]
    return dict(zip(names, torch.stack(values).tolist()))  # one device synchronisation per probe
