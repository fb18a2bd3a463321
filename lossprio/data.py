"""Image datasets held in memory as uint8 tensors, and the splits the papers use.

Every dataset loads into an :class:`ImageSet`: ``images`` (uint8, N×C×H×W), ``labels``
(int64), class names, the dataset's name and split. Fashion-MNIST is read from Debian's
``dataset-fashion-mnist`` files when they are present, so it needs no network; the others use
torchvision's own loaders (which download on first use) or a folder the user gives.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .checks import check_choice, check_fraction
from .cli import command
from .registry import Registry

DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


@dataclass(frozen=True)
class ImageSet:
    """An in-memory labelled image set.

    Attributes:
        images: uint8 tensor N×C×H×W.
        labels: int64 tensor N.
        classes: class names; label k names ``classes[k]``.
        name: the dataset's registry name.
        split: the split it came from (``train``, ``test``, ...).
        source_index: int64 tensor N, each example's position in the split as loaded, so
            subsets and halves can be traced back (and irreducible losses keyed by it).
    """

    images: Tensor
    labels: Tensor
    classes: tuple[str, ...]
    name: str
    split: str
    source_index: Tensor

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4:
            raise ValueError(f"images must be uint8 N×C×H×W, got {self.images.dtype} {tuple(self.images.shape)}")
        n = self.images.shape[0]
        if self.labels.shape != (n,) or self.labels.dtype != torch.int64:
            raise ValueError(
                f"labels must be int64 of shape ({n},), got {self.labels.dtype} {tuple(self.labels.shape)}"
            )
        if self.source_index.shape != (n,):
            raise ValueError(f"source_index must have shape ({n},), got {tuple(self.source_index.shape)}")

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W)."""
        return tuple(self.images.shape[1:])  # type: ignore[return-value]

    def subset(self, positions: Tensor) -> ImageSet:
        """The examples at ``positions`` (int64 positions into this set), in that order."""
        positions = torch.as_tensor(positions, dtype=torch.int64)
        return dataclasses.replace(
            self,
            images=self.images[positions],
            labels=self.labels[positions],
            source_index=self.source_index[positions],
        )

    def replace(self, **changes) -> ImageSet:
        """A copy with some fields changed (``images``, ``labels``, ``split``, ...)."""
        return dataclasses.replace(self, **changes)

    def tensors(self, stats: tuple[tuple[float, ...], tuple[float, ...]] | None = None) -> tuple[Tensor, Tensor]:
        """(images as float32 N×C×H×W standardised per channel, labels): what a plain training
        loop takes. ``stats``: the (mean, std) per channel to standardise with (default this
        set's own, :func:`channel_stats`; give the training set's to a test set)."""
        mean, std = channel_stats(self) if stats is None else stats
        shape = (1, -1, 1, 1)
        images = (self.images.float() / 255.0 - torch.tensor(mean).view(shape)) / torch.tensor(std).view(shape)
        return images, self.labels


def make_image_set(images: Tensor, labels: Tensor, classes: Sequence[str], name: str, split: str) -> ImageSet:
    """Build an :class:`ImageSet` with ``source_index = 0..N-1``."""
    images = torch.as_tensor(images)
    return ImageSet(
        images=images.contiguous(),
        labels=torch.as_tensor(labels, dtype=torch.int64),
        classes=tuple(classes),
        name=name,
        split=split,
        source_index=torch.arange(images.shape[0], dtype=torch.int64),
    )


# ----------------------------------------------------------------------------- loading

Loader = Callable[[str, Path | None], ImageSet]
DATASETS: Registry[ImageSet] = Registry("dataset")
SPLITS: dict[str, tuple[str, ...]] = {}


@dataclass(frozen=True)
class Shape:
    """What a dataset holds, known without loading it: image channels, side and class count."""

    channels: int
    size: int
    classes: int


SHAPES: dict[str, Shape] = {}


def default_root() -> Path:
    """Where downloads go: ``$LOSSPRIO_DATA`` or ``~/.cache/lossprio/data``."""
    return Path(os.environ.get("LOSSPRIO_DATA", Path.home() / ".cache" / "lossprio" / "data"))


def load(name: str, split: str = "train", root: str | Path | None = None) -> ImageSet:
    """Load dataset ``name``'s ``split`` into memory; labels are checked against the class count.

    Args:
        name: one of :func:`dataset_names`.
        split: one of ``SPLITS[name]``.
        root: data folder; ``None`` means :func:`default_root` (folder datasets need one). A
            folder given must exist: nothing falls back silently to another copy.
    """
    loader = DATASETS.get(name)
    check_choice("split", split, SPLITS[name])
    if root is not None and not Path(root).is_dir():
        raise DataProblem(
            f"data_root={str(root)!r} is not a folder; give the folder holding the {name} files, or None for "
            f"the default ({default_root()})"
        )
    image_set = loader(split=split, root=None if root is None else Path(root))
    return check_labels(image_set, f"{name}/{split}")


class DataProblem(ValueError):
    """A data folder or file that cannot be used, with what to do about it."""


def check_labels(image_set: ImageSet, where: str) -> ImageSet:
    """``image_set``, or :class:`DataProblem` if a label lies outside its classes."""
    labels = image_set.labels
    if len(labels) and (labels.min() < 0 or labels.max() >= image_set.num_classes):
        raise DataProblem(
            f"{where}: labels run from {labels.min().item()} to {labels.max().item()}, outside the "
            f"{image_set.num_classes} classes 0..{image_set.num_classes - 1}: the label file is damaged or "
            "of another dataset"
        )
    return image_set


def dataset_names() -> list[str]:
    """Names :func:`load` accepts."""
    return DATASETS.names()


def dataset_shape(name: str) -> Shape:
    """Channels, image side and class count of dataset ``name``, without loading it."""
    DATASETS.get(name)
    return SHAPES[name]


def _register(name: str, splits: tuple[str, ...], shape: Shape) -> Callable[[Loader], Loader]:
    SPLITS[name] = splits
    SHAPES[name] = shape
    return DATASETS.register(name)


IDX_MAGIC = {1: "labels", 3: "images"}  # an IDX file's dimension count says what it holds


def _read_idx(path: Path, expect_dims: int) -> np.ndarray:
    """Read an IDX file (optionally gzipped): a 4-byte magic (0, 0, 8 = uint8, dims), big-endian
    dims, then the bytes; :class:`DataProblem` naming the file if it is empty, truncated, of another
    kind (labels where images belong) or not IDX at all."""
    advice = "delete it and reinstall the files (apt-get install dataset-fashion-mnist, or let torchvision download)"
    try:
        raw = (gzip.open if path.suffix == ".gz" else open)(path, "rb").read()
    except (OSError, EOFError) as error:
        raise DataProblem(f"{path}: cannot be read ({error}); {advice}") from error
    if len(raw) < 4 or raw[:3] != b"\x00\x00\x08" or raw[3] not in IDX_MAGIC:
        raise DataProblem(f"{path}: not an IDX file of uint8 {IDX_MAGIC[expect_dims]} (empty or damaged); {advice}")
    ndim = raw[3]
    if ndim != expect_dims:
        raise DataProblem(
            f"{path}: holds {IDX_MAGIC[ndim]} where {IDX_MAGIC[expect_dims]} belong (files swapped?); {advice}"
        )
    if len(raw) < 4 + 4 * ndim:
        raise DataProblem(f"{path}: truncated inside its header; {advice}")
    dims = np.frombuffer(raw, dtype=">i4", count=ndim, offset=4)
    expected = 4 + 4 * ndim + int(np.prod(dims))
    if len(raw) != expected:
        raise DataProblem(
            f"{path}: {len(raw)} bytes where its header {tuple(int(d) for d in dims)} needs {expected} (truncated "
            f"or damaged); {advice}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _idx_pair(folders: Sequence[Path], prefix: str) -> tuple[Path, Path] | None:
    """The first folder's (images, labels) IDX files; :class:`DataProblem` naming the missing file
    when a folder holds one of the pair but not the other (never mixing two folders' files)."""
    for folder in folders:
        found = {}
        for kind, stem in (("images", f"{prefix}-images-idx3-ubyte"), ("labels", f"{prefix}-labels-idx1-ubyte")):
            found[kind] = next((c for c in (folder / f"{stem}.gz", folder / stem) if c.exists()), None)
        if found["images"] and found["labels"]:
            return found["images"], found["labels"]
        if found["images"] or found["labels"]:
            have, lacking = ("images", "labels") if found["images"] else ("labels", "images")
            raise DataProblem(
                f"{folder}: has the {prefix} {have} ({found[have].name}) but not its {lacking} file "
                f"({prefix}-{lacking}-idx{1 if lacking == 'labels' else 3}-ubyte[.gz]); put both in one folder"
            )
    return None


def _from_torchvision(dataset, name: str, split: str, classes: Sequence[str] | None = None) -> ImageSet:
    """Convert a torchvision dataset with ``data`` and ``targets``/``labels`` to an ImageSet."""
    data = dataset.data
    data = torch.as_tensor(np.asarray(data)) if not isinstance(data, Tensor) else data
    if data.dim() == 3:  # N×H×W grey
        data = data.unsqueeze(1)
    elif data.shape[-1] in (1, 3):  # N×H×W×C
        data = data.permute(0, 3, 1, 2)
    targets = getattr(dataset, "targets", None)
    if targets is None:
        targets = dataset.labels
    targets = torch.as_tensor(np.asarray(targets), dtype=torch.int64)
    if targets.dim() == 2:  # QMNIST keeps extra columns; the first is the class
        targets = targets[:, 0]
    return make_image_set(data.to(torch.uint8), targets, classes or dataset.classes, name, split)


def _download(name: str, folder: Path, make: Callable[[], Any], offline_hint: str = "") -> Any:
    """``make()`` (a torchvision dataset that downloads into ``folder`` if need be), or
    :class:`DataProblem` saying where the files were looked for and how to get them."""
    try:
        return make()
    except (OSError, RuntimeError) as error:  # URLError is an OSError; torchvision raises RuntimeError
        raise DataProblem(
            f"{name}: its files are not in {folder} and could not be downloaded ({type(error).__name__}: "
            f"{error}); {offline_hint or 'connect to the internet once, or put the files there'}"
        ) from error


@_register("fashion-mnist", ("train", "test"), Shape(1, 28, 10))
def _fashion_mnist(split: str, root: Path | None) -> ImageSet:
    prefix = "train" if split == "train" else "t10k"
    base = root or default_root()
    folders = [base / "FashionMNIST" / "raw", base] + ([DEBIAN_FASHION_MNIST] if root is None else [])
    pair = _idx_pair(folders, prefix)
    if pair is not None:
        images = torch.from_numpy(_read_idx(pair[0], 3).copy()).unsqueeze(1)
        labels = torch.from_numpy(_read_idx(pair[1], 1).astype(np.int64))
        if len(images) != len(labels):
            raise DataProblem(f"{pair[0]} holds {len(images)} images but {pair[1]} {len(labels)} labels")
        return make_image_set(images, labels, FASHION_MNIST_CLASSES, "fashion-mnist", split)
    from torchvision.datasets import FashionMNIST

    hint = (
        f"offline, install Debian's copy (apt-get install dataset-fashion-mnist, files in {DEBIAN_FASHION_MNIST})"
        + (" and leave data_root=None" if root is not None else "")
        + " or put the four *-ubyte.gz files in the folder"
    )
    dataset = _download("fashion-mnist", base, lambda: FashionMNIST(base, train=split == "train", download=True), hint)
    return _from_torchvision(dataset, "fashion-mnist", split)


@_register("mnist", ("train", "test"), Shape(1, 28, 10))
def _mnist(split: str, root: Path | None) -> ImageSet:
    from torchvision.datasets import MNIST

    folder = root or default_root()
    dataset = _download("mnist", folder, lambda: MNIST(folder, train=split == "train", download=True))
    return _from_torchvision(dataset, "mnist", split)


@_register("qmnist", ("train", "test", "extra"), Shape(1, 28, 10))
def _qmnist(split: str, root: Path | None) -> ImageSet:
    """QMNIST: ``test`` is the 10k MNIST test images, ``extra`` the other 50k (paper M's holdout)."""
    from torchvision.datasets import QMNIST

    what = {"train": "train", "test": "test10k", "extra": "test50k"}[split]
    folder = root or default_root()
    return _from_torchvision(
        _download("qmnist", folder, lambda: QMNIST(folder, what=what, download=True)), "qmnist", split
    )


@_register("cifar10", ("train", "test"), Shape(3, 32, 10))
def _cifar10(split: str, root: Path | None) -> ImageSet:
    from torchvision.datasets import CIFAR10

    folder = root or default_root()
    dataset = _download("cifar10", folder, lambda: CIFAR10(folder, train=split == "train", download=True))
    return _from_torchvision(dataset, "cifar10", split)


@_register("cifar100", ("train", "test"), Shape(3, 32, 100))
def _cifar100(split: str, root: Path | None) -> ImageSet:
    from torchvision.datasets import CIFAR100

    folder = root or default_root()
    dataset = _download("cifar100", folder, lambda: CIFAR100(folder, train=split == "train", download=True))
    return _from_torchvision(dataset, "cifar100", split)


@_register("svhn", ("train", "extra", "test"), Shape(3, 32, 10))
def _svhn(split: str, root: Path | None) -> ImageSet:
    from torchvision.datasets import SVHN

    folder = root or default_root()
    # torchvision's SVHN.download() fetches even when the file is there; download only when it is not
    present = (Path(folder) / f"{split}_32x32.mat").exists()
    dataset = _download("svhn", folder, lambda: SVHN(folder, split=split, download=not present))
    return _from_torchvision(dataset, "svhn", split, classes=[str(k) for k in range(10)])


def _image_folder(name: str, folder: Path, split: str, size: int) -> ImageSet:
    """Read an ImageFolder tree (``folder/<class>/<image>``) resized to ``size``×``size``."""
    if not folder.is_dir():
        raise ValueError(
            f"root: the {name} folder {str(folder)!r} does not exist; give root=<folder holding {split}/<class>/...>"
        )
    from PIL import Image
    from torchvision.datasets import ImageFolder

    tree = ImageFolder(str(folder))
    images = np.empty((len(tree.samples), size, size, 3), dtype=np.uint8)
    for position, (path, _) in enumerate(tree.samples):
        with Image.open(path) as image:
            images[position] = np.asarray(image.convert("RGB").resize((size, size), Image.BILINEAR))
    labels = torch.tensor(tree.targets, dtype=torch.int64)
    return make_image_set(torch.from_numpy(images).permute(0, 3, 1, 2), labels, tree.classes, name, split)


def _root_required(name: str, root: Path | None) -> Path:
    if root is None:
        raise ValueError(f"root=None: {name} is not downloadable; give root=<folder with its train/valid/test folders>")
    return root


@_register("cinic10", ("train", "valid", "test"), Shape(3, 32, 10))
def _cinic10(split: str, root: Path | None) -> ImageSet:
    """CINIC-10 from its release layout (``root/{train,valid,test}/<class>/*.png``), 32×32."""
    return _image_folder("cinic10", _root_required("cinic10", root) / split, split, size=32)


@_register("clothing1m", ("train", "clean_train", "clean_val", "clean_test"), Shape(3, 64, 14))
def _clothing1m(split: str, root: Path | None) -> ImageSet:
    """Clothing-1M in ImageFolder layout (``root/<split>/<class>/*.jpg``), resized to 64×64.

    The full noisy training split is about 1M images: 64×64×3 bytes each is ≈ 12 GB in memory.
    """
    return _image_folder("clothing1m", _root_required("clothing1m", root) / split, split, size=64)


@_register("digits", ("train", "test"), Shape(1, 28, 10))
def _digits(split: str, root: Path | None) -> ImageSet:
    """scikit-learn's 8×8 digits (1,797 images, offline), scaled to 0..255 and resized to 28×28.

    Every fifth image (position 0, 5, 10, ...) is the test split, the rest the training split.
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:
        raise ImportError(
            "dataset 'digits' comes from scikit-learn: pip install 'lossprio[test]' (or scikit-learn)"
        ) from error

    bunch = load_digits()
    images = torch.tensor(bunch.images, dtype=torch.float32).unsqueeze(1) * (255.0 / 16.0)
    images = torch.nn.functional.interpolate(images, size=(28, 28), mode="bilinear", align_corners=False)
    images = images.round().clamp(0, 255).to(torch.uint8)
    in_test = torch.arange(len(images)) % 5 == 0
    keep = in_test if split == "test" else ~in_test
    classes = [str(k) for k in range(10)]
    return make_image_set(images[keep], torch.tensor(bunch.target)[keep], classes, "digits", split)


# ----------------------------------------------------------------------------- splits


def halves(image_set: ImageSet) -> tuple[ImageSet, ImageSet]:
    """Paper M's split of a training set: (even positions, odd positions)."""
    positions = torch.arange(len(image_set))
    return image_set.subset(positions[0::2]), image_set.subset(positions[1::2])


def class_balanced_split(image_set: ImageSet, fraction: float, seed: int) -> tuple[ImageSet, ImageSet]:
    """(a random round(fraction · n_c) examples of every class c, the rest), each in the original order."""
    check_fraction("fraction", fraction)
    generator = torch.Generator().manual_seed(seed)
    in_part = torch.zeros(len(image_set), dtype=torch.bool)
    for label in range(image_set.num_classes):
        members = (image_set.labels == label).nonzero().flatten()
        order = torch.randperm(len(members), generator=generator)
        in_part[members[order[: round(fraction * len(members))]]] = True
    return image_set.subset(in_part.nonzero().flatten()), image_set.subset((~in_part).nonzero().flatten())


def class_balanced_fraction(image_set: ImageSet, fraction: float, seed: int) -> ImageSet:
    """A random subset holding round(fraction · n_c) examples of every class c."""
    return class_balanced_split(image_set, fraction, seed)[0]


def keep_classes(image_set: ImageSet, classes: Sequence[int], setting: str = "classes") -> ImageSet:
    """Only the examples whose label is in ``classes`` (labels keep their ids), for relevance runs;
    ``ValueError`` naming ``setting`` for an id outside the set's classes."""
    bad = [c for c in classes if not 0 <= c < image_set.num_classes]
    if bad:
        raise ValueError(
            f"{setting}={list(classes)} holds ids outside {image_set.name}'s 0..{image_set.num_classes - 1}: {bad}"
        )
    mask = torch.isin(image_set.labels, torch.as_tensor(list(classes), dtype=torch.int64))
    return image_set.subset(mask.nonzero().flatten())


def channel_stats(image_set: ImageSet) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and standard deviation of the pixels, on the 0..1 scale."""
    pixels = image_set.images.to(torch.float64).div_(255.0).transpose(0, 1).flatten(1)
    return tuple(pixels.mean(1).tolist()), tuple(pixels.std(1).tolist())


@command
def main(argv: Sequence[str] | None = None) -> None:
    """``python -m lossprio.data NAME [NAME ...]``: load (downloading if need be) and summarise."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("names", nargs="+", choices=dataset_names())
    parser.add_argument("--root", default=None)
    args = parser.parse_args(argv)
    for name in args.names:
        for split in SPLITS[name]:
            image_set = load(name, split, args.root)
            print(f"{name}/{split}: {len(image_set)} images {image_set.image_shape}, {image_set.num_classes} classes")


if __name__ == "__main__":
    main()
