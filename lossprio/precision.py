"""Mixed precision: which half type autocast uses on a device, and the loss scaling fp16 needs.

bf16 keeps fp32's exponent range, so it trains without loss scaling; GPUs without bf16 (a T4, a
V100: Colab's usual cards) get fp16, whose small range underflows small gradients unless the loss
is scaled up before the backward pass and the gradients down before the step (a
:class:`torch.amp.GradScaler`). CPUs have bf16 (slowly: the CPU profiles train in fp32).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import Tensor


def bf16_supported(device: torch.device) -> bool:
    """Whether ``device`` runs bf16: every CPU; a CUDA GPU of compute capability 8.0 or newer."""
    return device.type != "cuda" or torch.cuda.is_bf16_supported()


def half_dtype(device: torch.device) -> torch.dtype:
    """The dtype autocast uses on ``device``: bf16 where it runs, fp16 otherwise."""
    return torch.bfloat16 if bf16_supported(device) else torch.float16


@contextlib.contextmanager
def autocast(device: torch.device, enabled: bool) -> Iterator[None]:
    """Autocast to :func:`half_dtype` on ``device`` when ``enabled`` (a no-op otherwise)."""
    with torch.autocast(device.type, dtype=half_dtype(device), enabled=enabled):
        yield


class LossScaler:
    """Backward pass and optimiser step, with fp16's loss scaling where autocast runs in fp16 (a
    plain ``backward(); step()`` otherwise, bit for bit)."""

    def __init__(self, device: torch.device, amp: bool) -> None:
        self.enabled = amp and half_dtype(device) == torch.float16
        self.scaler = torch.amp.GradScaler(device.type, enabled=self.enabled)

    def backward_and_step(self, loss: Tensor, optimizer: torch.optim.Optimizer) -> None:
        """Back-propagate ``loss`` and step ``optimizer`` (skipped by the scaler where fp16
        gradients overflowed, the scale then halved)."""
        if not self.enabled:
            loss.backward()
            optimizer.step()
            return
        self.scaler.scale(loss).backward()
        self.scaler.step(optimizer)
        self.scaler.update()

    def state_dict(self) -> dict:
        """The scaler's state (its current scale), for a checkpoint."""
        return self.scaler.state_dict()

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`'s state."""
        if state:
            self.scaler.load_state_dict(state)
