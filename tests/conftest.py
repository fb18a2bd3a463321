"""Shared fixtures: tiny synthetic image sets, so tests need no downloads."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch

from lossprio.data import ImageSet, make_image_set

from . import formats


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


#: the book's own results tree: smoke records the tests make go where the notebooks' nbval runs read
#: them (``results/<chapter>/smoke/``, ignored by git), so each chapter's smoke sweep trains once a session
BOOK_RESULTS = Path(__file__).resolve().parents[1] / "results"


@pytest.fixture(scope="session")
def smoke_records():
    """``smoke_records(name)``: chapter ``name``'s smoke records by run key, trained once a session
    into :data:`BOOK_RESULTS` (finished runs there are read, not retrained)."""
    from lossprio import sweep
    from lossprio.chapters import chapter

    done = {}

    def records(name: str) -> dict:
        if name not in done:
            found = chapter(name)
            out = BOOK_RESULTS / name / "smoke"
            done[name] = sweep.run_all(found.runs("smoke"), out, progress=False, reuse=found.reuse_dirs(out))
        return {key: copy.deepcopy(record) for key, record in done[name].items()}

    return records


@pytest.fixture
def verified(monkeypatch):
    """torchvision checks CIFAR's and SVHN's files against the MD5 sums of the real releases;
    the files written here are small stand-ins, so only that comparison is bypassed, and
    everything else (reading, parsing, layout) is torchvision's own."""
    from torchvision.datasets import cifar, svhn, utils

    exists = lambda path, md5=None: utils.check_integrity(path)  # without an MD5: is it a file?
    monkeypatch.setattr(cifar, "check_integrity", exists)
    monkeypatch.setattr(svhn, "check_integrity", exists)


@pytest.fixture
def cifar_root(tmp_path, verified):
    formats.write_cifar(
        tmp_path / "cifar", classes=10, per_batch=60, test=60
    )  # 300 images: the pools of 3 × 64 (H) and 4 × 64 (J) fit
    return tmp_path / "cifar"
