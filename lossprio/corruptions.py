"""Corruptions of a training set: the three of paper H, label flips (paper J), label noise,
structured noise and ambiguous inputs (paper M).

``apply(image_set, kind, fraction, seed)`` returns the corrupted set and a boolean mask of the
examples it changed the *recipe* for (an example drawn for ``random_labels`` may keep its label;
it is still in the mask, as in paper H). Exactly ``round(fraction · N)`` examples are drawn
(``structured``: ``round(fraction · n_c)`` of each source class c). Test splits are refused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from .checks import check_fraction
from .data import ImageSet
from .registry import Registry

Corruption = Callable[..., tuple[ImageSet, Tensor]]
CORRUPTIONS: Registry[tuple[ImageSet, Tensor]] = Registry("corruption")
PAPER_M_STRUCTURED_PAIRS: tuple[tuple[int, int], ...] = ((3, 5), (9, 7), (4, 9))
#: ``structured``'s (source, target) pairs by dataset: paper M's digit pairs, and for Fashion-MNIST
#: three confusable pairs: shirt → T-shirt/top, pullover → coat, sneaker → ankle boot
STRUCTURED_PAIRS: dict[str, tuple[tuple[int, int], ...]] = {"fashion-mnist": ((6, 0), (2, 4), (7, 9))}


def apply(
    image_set: ImageSet,
    kind: str,
    fraction: float,
    seed: int,
    *,
    pairs: Sequence[tuple[int, int]] | None = None,
) -> tuple[ImageSet, Tensor]:
    """Corrupt ``fraction`` of ``image_set`` with ``kind``; returns (corrupted set, mask).

    Args:
        image_set: a training (or holdout) split; a ``test`` split raises ``ValueError``.
        kind: one of :func:`corruption_names`.
        fraction: share of examples to corrupt, in [0, 1] (``structured``: share of each source class).
        seed: the corruption is a function of (image_set, kind, fraction, seed) alone.
        pairs: ``structured`` only: (source class, target class) pairs, read off the original
            labels; ``None``: the dataset's :data:`STRUCTURED_PAIRS` (paper M's digit pairs otherwise).
    """
    corrupt = CORRUPTIONS.get(kind)
    check_fraction("fraction", fraction)
    if image_set.split == "test":
        raise ValueError("image_set.split='test': corruptions apply to training data only, never to the test split")
    generator = torch.Generator().manual_seed(seed)
    if kind == "structured":
        return corrupt(
            image_set,
            fraction,
            generator,
            pairs=pairs or STRUCTURED_PAIRS.get(image_set.name, PAPER_M_STRUCTURED_PAIRS),
        )
    return corrupt(image_set, fraction, generator)


def corruption_names() -> list[str]:
    """Kinds :func:`apply` accepts."""
    return CORRUPTIONS.names()


def choose(n: int, fraction: float, generator: torch.Generator) -> Tensor:
    """Boolean mask with exactly round(fraction · n) random entries set."""
    mask = torch.zeros(n, dtype=torch.bool)
    mask[torch.randperm(n, generator=generator)[: round(fraction * n)]] = True
    return mask


@CORRUPTIONS.register("random_labels")
def random_labels(image_set: ImageSet, fraction: float, generator: torch.Generator) -> tuple[ImageSet, Tensor]:
    """New label uniform over all K classes (1/K of the drawn keep their label), as paper H."""
    mask = choose(len(image_set), fraction, generator)
    labels = image_set.labels.clone()
    labels[mask] = torch.randint(0, image_set.num_classes, (int(mask.sum()),), generator=generator)
    return image_set.replace(labels=labels), mask


@CORRUPTIONS.register("label_noise")
def label_noise(image_set: ImageSet, fraction: float, generator: torch.Generator) -> tuple[ImageSet, Tensor]:
    """Paper M's label noise (its reference code's ``_corrupt_dataset``): a new label uniform over
    all K classes, so about 1/K of the drawn examples keep theirs (10 % drawn: about 9 % wrong on
    10 classes). The same draw as paper H's ``random_labels``; ``label_flip`` (paper J) always
    changes the label."""
    return random_labels(image_set, fraction, generator)


@CORRUPTIONS.register("label_flip")
def label_flip(image_set: ImageSet, fraction: float, generator: torch.Generator) -> tuple[ImageSet, Tensor]:
    """New label uniform over the K − 1 *other* classes: every drawn label changes (paper J)."""
    mask = choose(len(image_set), fraction, generator)
    labels = image_set.labels.clone()
    shift = torch.randint(1, image_set.num_classes, (int(mask.sum()),), generator=generator)
    labels[mask] = (labels[mask] + shift) % image_set.num_classes
    return image_set.replace(labels=labels), mask


def pixel_permutation(image_set: ImageSet, generator: torch.Generator) -> Tensor:
    """The task's one permutation of the H·W pixel positions."""
    _, h, w = image_set.image_shape
    return torch.randperm(h * w, generator=generator)


@CORRUPTIONS.register("shuffle_pixels")
def shuffle_pixels(image_set: ImageSet, fraction: float, generator: torch.Generator) -> tuple[ImageSet, Tensor]:
    """Move the pixels of each drawn image by ONE permutation shared by the whole task (paper H).

    Channels move together: pixel (y, x) keeps its colour and goes to a new position.
    """
    mask = choose(len(image_set), fraction, generator)
    permutation = pixel_permutation(image_set, generator)
    images = image_set.images.clone()
    chosen = images[mask]
    images[mask] = chosen.flatten(2)[:, :, permutation].view_as(chosen)
    return image_set.replace(images=images), mask


@CORRUPTIONS.register("gaussian")
def gaussian(image_set: ImageSet, fraction: float, generator: torch.Generator) -> tuple[ImageSet, Tensor]:
    """Replace each drawn image by Gaussian noise with that image's own pixel mean and variance.

    The draw is rounded and clipped to 0..255 to stay a uint8 image; for dark images (much of
    Fashion-MNIST) the clipping at 0 raises the mean and lowers the variance of the stored noise.
    """
    mask = choose(len(image_set), fraction, generator)
    if not mask.any():
        return image_set, mask
    images = image_set.images.clone()
    chosen = images[mask].float()
    mean = chosen.mean(dim=(1, 2, 3), keepdim=True)
    std = chosen.std(dim=(1, 2, 3), keepdim=True, correction=0)
    noise = torch.randn(chosen.shape, generator=generator) * std + mean
    images[mask] = noise.round().clamp(0, 255).to(torch.uint8)
    return image_set.replace(images=images), mask


@CORRUPTIONS.register("ambiguous")
def ambiguous(image_set: ImageSet, fraction: float, generator: torch.Generator) -> tuple[ImageSet, Tensor]:
    """Blend each drawn image half and half with a random image of another class, and label the
    blend with either class at random: an input whose label is a coin flip (a stand-in for paper
    M's AmbiguousMNIST, whose ambiguous digits come from a generative model). Partners are drawn
    from the clean set."""
    mask = choose(len(image_set), fraction, generator)
    drawn = mask.nonzero().flatten()
    labels = image_set.labels
    if image_set.num_classes < 2 or not len(drawn):
        return image_set, mask
    partners = torch.randint(0, len(image_set), (len(drawn),), generator=generator)
    for _ in range(1000):  # redraw the partners of the same class (a few rounds for K >= 2 classes)
        same = labels[partners] == labels[drawn]
        if not same.any():
            break
        partners[same] = torch.randint(0, len(image_set), (int(same.sum()),), generator=generator)
    else:
        raise ValueError(f"{image_set.name}: too few examples outside some class to blend with")
    images, new_labels = image_set.images.clone(), labels.clone()
    blend = (image_set.images[drawn].to(torch.int16) + image_set.images[partners].to(torch.int16) + 1) // 2
    images[drawn] = blend.to(torch.uint8)
    coin = torch.rand(len(drawn), generator=generator) < 0.5
    new_labels[drawn] = torch.where(coin, labels[partners], labels[drawn])
    return image_set.replace(images=images, labels=new_labels), mask


@CORRUPTIONS.register("structured")
def structured(
    image_set: ImageSet, fraction: float, generator: torch.Generator, *, pairs: Sequence[tuple[int, int]]
) -> tuple[ImageSet, Tensor]:
    """Relabel round(fraction · n_s) random examples of each source class s as its target (paper M)."""
    sources = [s for s, _ in pairs]
    if len(set(sources)) != len(sources):
        raise ValueError(f"pairs={list(pairs)}: each source class may appear once")
    for source, target in pairs:
        for name, value in (("source", source), ("target", target)):
            if not 0 <= value < image_set.num_classes:
                raise ValueError(f"pairs: {name} class {value} is outside 0..{image_set.num_classes - 1}")
    mask = torch.zeros(len(image_set), dtype=torch.bool)
    labels = image_set.labels.clone()
    for source, target in pairs:
        members = (image_set.labels == source).nonzero().flatten()
        drawn = members[choose(len(members), fraction, generator)]
        labels[drawn] = target
        mask[drawn] = True
    return image_set.replace(labels=labels), mask
