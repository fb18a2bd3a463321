"""Whole-dataset-on-device batching with augmentation done on whole batches by tensor ops.

The image set is moved to the device once, as uint8 (a quarter of float32's bytes); each batch
is gathered, cropped, flipped, normalised and cut out there, with no DataLoader workers and no
per-image Python. Randomness comes from an explicit generator seeded by (seed, epoch), so an
epoch's batches are the same whether or not the run was interrupted before it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from .checks import check_positive_int, check_range
from .data import ImageSet


@dataclass(frozen=True)
class Augment:
    """Training-time augmentation, applied in this order: crop, flip, normalise, cutout.

    Attributes:
        crop_padding: zero-pad by this many pixels, then crop back to size at a random offset (0 = off).
        flip: mirror horizontally with probability 1/2.
        cutout: side of the square zeroed at a random centre after normalisation (0 = off).
        mean, std: per-channel normalisation on the 0..1 scale.
    """

    crop_padding: int = 0
    flip: bool = False
    cutout: int = 0
    mean: tuple[float, ...] = (0.0,)
    std: tuple[float, ...] = (1.0,)

    def __post_init__(self) -> None:
        check_range("crop_padding", self.crop_padding, 0)
        check_range("cutout", self.cutout, 0)
        if any(s <= 0 for s in self.std):
            raise ValueError(f"std={self.std} must be positive")

    @property
    def augments(self) -> bool:
        """Whether it changes images at random (crop, flip or cutout), not only normalises them."""
        return bool(self.crop_padding or self.flip or self.cutout)


class Batch(NamedTuple):
    """One batch: ``indices`` are positions in the image set (the dataset index)."""

    indices: Tensor
    inputs: Tensor
    labels: Tensor


def derive_seed(seed: int, *parts: int) -> int:
    """A 63-bit seed that differs for every (seed, parts) tuple, stable across runs."""
    value = seed & (2**63 - 1)
    for part in parts:
        value = (value * 1_000_003 + part + 0x9E3779B97F4A7C15) % (2**63 - 1)
    return value


def random_crop(images: Tensor, padding: int, generator: torch.Generator) -> Tensor:
    """Zero-pad each image by ``padding`` and cut an H×W window at an independent random offset."""
    if padding == 0:
        return images
    n, _, h, w = images.shape
    padded = F.pad(images, (padding,) * 4)
    offsets = torch.randint(0, 2 * padding + 1, (2, n), generator=generator, device=images.device)
    rows = (offsets[0, :, None] + torch.arange(h, device=images.device))[:, :, None]  # n×h×1
    cols = (offsets[1, :, None] + torch.arange(w, device=images.device))[:, None, :]  # n×1×w
    batch = torch.arange(n, device=images.device)[:, None, None]
    # back to plain NCHW memory: the gather leaves channels-last strides, and torch's CPU convolution
    # backward corrupts the heap on such input on some processors (AMD EPYC, torch 2.14.1)
    return padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2).contiguous()


def random_flip(images: Tensor, generator: torch.Generator) -> Tensor:
    """Mirror each image left-right with probability 1/2."""
    flip = torch.rand(images.shape[0], generator=generator, device=images.device) < 0.5
    return torch.where(flip[:, None, None, None], images.flip(3), images)


def normalize(images: Tensor, mean: Sequence[float], std: Sequence[float]) -> Tensor:
    """uint8 images → float32, scaled to 0..1, minus ``mean``, over ``std`` (per channel)."""
    mean_t = torch.tensor(mean, device=images.device).view(1, -1, 1, 1)
    std_t = torch.tensor(std, device=images.device).view(1, -1, 1, 1)
    return (images.float() / 255.0 - mean_t) / std_t


def cutout(images: Tensor, length: int, generator: torch.Generator) -> Tensor:
    """Zero a ``length``×``length`` square centred uniformly in each image (clipped at borders)."""
    if length == 0:
        return images
    n, _, h, w = images.shape
    centre_y = torch.randint(0, h, (n, 1, 1), generator=generator, device=images.device)
    centre_x = torch.randint(0, w, (n, 1, 1), generator=generator, device=images.device)
    ys = torch.arange(h, device=images.device).view(1, h, 1) - centre_y + length // 2
    xs = torch.arange(w, device=images.device).view(1, 1, w) - centre_x + length // 2
    inside = (ys >= 0) & (ys < length) & (xs >= 0) & (xs < length)
    return images.masked_fill(inside[:, None], 0.0)


def augment_batch(images: Tensor, augment: Augment, generator: torch.Generator | None) -> Tensor:
    """Apply ``augment`` to a uint8 batch; ``generator=None`` means normalise only (evaluation)."""
    if generator is None:
        return normalize(images, augment.mean, augment.std)
    images = random_crop(images, augment.crop_padding, generator)
    if augment.flip:
        images = random_flip(images, generator)
    return cutout(normalize(images, augment.mean, augment.std), augment.cutout, generator)


class BatchIterator:
    """Batches of an :class:`ImageSet` kept on ``device``.

    Example:
        >>> it = BatchIterator(train, batch_size=128, device="cuda", augment=Augment(crop_padding=4, flip=True))
        >>> for indices, inputs, labels in it.epoch(0): ...
    """

    def __init__(
        self,
        image_set: ImageSet,
        batch_size: int,
        *,
        device: str | torch.device = "cpu",
        augment: Augment | None = None,
        shuffle: bool = True,
        drop_last: bool = False,
        seed: int = 0,
        channels_last: bool = False,
        evaluation: bool = False,
    ) -> None:
        """``augment`` applies at random unless ``evaluation``, which only normalises with its
        mean and std (as does ``augment=None`` with mean 0 and std 1)."""
        check_positive_int("batch_size", batch_size)
        self.device = torch.device(device)
        self.images = image_set.images.to(self.device)
        self.labels = image_set.labels.to(self.device)
        self.batch_size = batch_size
        self.augment = augment or Augment()
        self.train_mode = augment is not None and not evaluation
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.seed = seed
        self.channels_last = channels_last

    def __len__(self) -> int:
        return self.batches_for(self.images.shape[0])

    def batches_for(self, n: int) -> int:
        """Batches an epoch over ``n`` examples yields."""
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def generator(self, epoch: int, stream: int = 0) -> torch.Generator:
        """The generator for ``epoch``'s ``stream`` (0: order, 1: augmentation)."""
        return torch.Generator(device=self.device).manual_seed(derive_seed(self.seed, epoch, stream))

    def order(self, epoch: int, among: Tensor | None = None) -> Tensor:
        """The dataset indices (all, or only those in ``among``) in the order ``epoch`` visits them."""
        pool = torch.arange(self.images.shape[0], device=self.device) if among is None else among.to(self.device)
        if not self.shuffle:
            return pool
        return pool[torch.randperm(pool.numel(), generator=self.generator(epoch, 0), device=self.device)]

    def gather(self, indices: Tensor, generator: torch.Generator | None) -> Batch:
        """The batch of ``indices``, augmented with ``generator`` (``None``: normalise only)."""
        inputs = augment_batch(self.images[indices], self.augment, generator)
        if self.channels_last:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        return Batch(indices, inputs, self.labels[indices])

    def epoch(self, epoch: int, among: Tensor | None = None) -> Iterator[Batch]:
        """Yield ``epoch``'s batches (over ``among`` only, if given); the same ``epoch`` always
        yields the same batches."""
        order = self.order(epoch, among)
        augment_generator = self.generator(epoch, 1) if self.train_mode else None
        for start in range(0, self.batches_for(order.numel()) * self.batch_size, self.batch_size):
            yield self.gather(order[start : start + self.batch_size], augment_generator)

    def __iter__(self) -> Iterator[Batch]:
        return self.epoch(0)
