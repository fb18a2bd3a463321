"""Small datasets written in each dataset's own on-disk format, so the real loaders read them offline.

Images are random uint8 and labels cycle through the classes; every writer returns what it
wrote as (images N×C×H×W, labels) per split, for the tests to compare against.
"""

from __future__ import annotations

import pickle
import struct
from pathlib import Path

import numpy as np

Written = dict[str, tuple[np.ndarray, np.ndarray]]


def random_split(n: int, channels: int, size: int, classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, channels, size, size), dtype=np.uint8), np.arange(n) % classes


def write_cifar(root: Path, classes: int = 10, per_batch: int = 40, test: int = 60) -> Written:
    """CIFAR-10 (``cifar-10-batches-py``) or CIFAR-100 (``cifar-100-python``) pickled batches."""
    if classes == 10:
        folder, train_files, test_file, meta_file, key, label_key = (
            root / "cifar-10-batches-py",
            [f"data_batch_{k}" for k in range(1, 6)],
            "test_batch",
            "batches.meta",
            "label_names",
            "labels",
        )
    else:
        folder, train_files, test_file, meta_file, key, label_key = (
            root / "cifar-100-python",
            ["train"],
            "test",
            "meta",
            "fine_label_names",
            "fine_labels",
        )
    folder.mkdir(parents=True)
    parts = []
    for position, name in enumerate(train_files + [test_file]):
        images, labels = random_split(per_batch if name != test_file else test, 3, 32, classes, position)
        with open(folder / name, "wb") as stream:
            pickle.dump({"data": images.reshape(len(images), -1), label_key: labels.tolist(), "filenames": []}, stream)
        parts.append((name, images, labels))
    with open(folder / meta_file, "wb") as stream:
        pickle.dump({key: [f"class{k}" for k in range(classes)]}, stream)
    train = [p for p in parts if p[0] != test_file]
    return {
        "train": (np.concatenate([p[1] for p in train]), np.concatenate([p[2] for p in train])),
        "test": (parts[-1][1], parts[-1][2]),
    }


def write_svhn(root: Path, sizes: dict[str, int] | None = None) -> Written:
    """SVHN's ``<split>_32x32.mat`` files (X: 32×32×3×N, y: N×1 with 10 for the digit 0)."""
    from scipy.io import savemat

    root.mkdir(parents=True, exist_ok=True)
    written = {}
    for position, (split, n) in enumerate((sizes or {"train": 50, "test": 30, "extra": 40}).items()):
        images, labels = random_split(n, 3, 32, 10, position)
        savemat(
            root / f"{split}_32x32.mat",
            {"X": images.transpose(2, 3, 1, 0), "y": np.where(labels == 0, 10, labels)[:, None]},
        )
        written[split] = (images, labels)
    return written


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX ("Pascal Vincent") encoding of a uint8 or int32 array, big-endian."""
    code = {np.dtype(np.uint8): 0x08, np.dtype(np.int32): 0x0C}[array.dtype]
    header = struct.pack(">I", code << 8 | array.ndim) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_mnist(root: Path, train: int = 50, test: int = 30) -> Written:
    """MNIST's raw IDX files in ``root/MNIST/raw`` (as torchvision leaves them after a download)."""
    folder = root / "MNIST" / "raw"
    folder.mkdir(parents=True)
    written = {}
    for position, (split, prefix, n) in enumerate((("train", "train", train), ("test", "t10k", test))):
        images, labels = random_split(n, 1, 28, 10, position)
        (folder / f"{prefix}-images-idx3-ubyte").write_bytes(idx_bytes(images[:, 0]))
        (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(idx_bytes(labels.astype(np.uint8)))
        written[split] = (images, labels)
    return written


def write_qmnist(root: Path, train: int = 50, test: int = 10_030) -> Written:
    """QMNIST's IDX files (labels: N×8 int32, class first) in ``root/QMNIST/raw``; the test file's
    first 10,000 images are ``test``, the rest ``extra``."""
    folder = root / "QMNIST" / "raw"
    folder.mkdir(parents=True)
    written = {}
    for position, (part, n) in enumerate((("train", train), ("test", test))):
        images, labels = random_split(n, 1, 28, 10, position)
        columns = np.zeros((n, 8), dtype=np.int32)
        columns[:, 0] = labels
        (folder / f"qmnist-{part}-images-idx3-ubyte").write_bytes(idx_bytes(images[:, 0]))
        (folder / f"qmnist-{part}-labels-idx2-int").write_bytes(idx_bytes(columns))
        written[part] = (images, labels)
    images, labels = written.pop("test")
    written["test"], written["extra"] = (images[:10_000], labels[:10_000]), (images[10_000:], labels[10_000:])
    return written


def write_image_folder(
    root: Path, splits: dict[str, int], size: int, suffix: str = ".png", classes: int = 3
) -> Written:
    """An ImageFolder tree ``root/<split>/<class>/<k><suffix>`` (PNG keeps the pixels exact)."""
    from PIL import Image

    written = {}
    for position, (split, n) in enumerate(splits.items()):
        images, labels = random_split(n, 3, size, classes, position)
        for k, (image, label) in enumerate(zip(images, labels)):
            folder = root / split / f"class{label}"
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image.transpose(1, 2, 0)).save(folder / f"{k:05d}{suffix}")
        written[split] = (images, labels)
    return written
