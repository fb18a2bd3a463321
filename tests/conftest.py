"""Shared fixtures: tiny synthetic image sets, so tests need no downloads."""

from __future__ import annotations

import pytest
import torch

from lossprio.data import ImageSet, make_image_set


def synthetic_set(
    n: int = 240, channels: int = 3, size: int = 8, classes: int = 4, split: str = "train", seed: int = 0
) -> ImageSet:
    """Random uint8 images with labels 0..classes-1 in equal shares."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, channels, size, size), generator=generator, dtype=torch.uint8)
    labels = torch.arange(n) % classes
    return make_image_set(images, labels, [f"c{k}" for k in range(classes)], "synthetic", split)


@pytest.fixture
def tiny_set() -> ImageSet:
    return synthetic_set()
