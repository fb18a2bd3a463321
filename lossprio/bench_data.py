"""Benchmark: on-device batched augmentation vs torchvision's DataLoader with per-image PIL transforms.

Both do the same work per image (random crop with 4-pixel padding, horizontal flip, normalise)
and yield float batches. ``python -m lossprio.bench_data [--dataset fashion-mnist] [--images N]``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

import torch

from .accounting import synchronize
from .batches import Augment, BatchIterator
from .cli import command
from .data import ImageSet, channel_stats, load, make_image_set


def synthetic_cifar(n: int, seed: int = 0) -> ImageSet:
    """Random CIFAR-shaped data (n × 3 × 32 × 32 uint8), for timing without a download."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 3, 32, 32), generator=generator, dtype=torch.uint8)
    return make_image_set(images, torch.arange(n) % 10, [str(k) for k in range(10)], "synthetic-cifar", "train")


def time_on_device(image_set: ImageSet, batch_size: int, device: str) -> float:
    """Images per second through one epoch of :class:`BatchIterator`."""
    mean, std = channel_stats(image_set)
    iterator = BatchIterator(
        image_set, batch_size, device=device, augment=Augment(crop_padding=4, flip=True, mean=mean, std=std)
    )
    next(iter(iterator))  # warm-up
    synchronize(torch.device(device))
    start = time.perf_counter()
    for batch in iterator.epoch(1):
        batch.inputs.sum()
    synchronize(torch.device(device))
    return len(image_set) / (time.perf_counter() - start)


def time_dataloader(image_set: ImageSet, batch_size: int, workers: int) -> float:
    """Images per second through one epoch of a DataLoader doing the same work with PIL."""
    from PIL import Image
    from torch.utils.data import DataLoader, Dataset
    from torchvision import transforms

    mean, std = channel_stats(image_set)
    size = image_set.image_shape[1]
    transform = transforms.Compose(
        [
            transforms.RandomCrop(size, padding=4),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            transforms.Normalize(mean, std),
        ]
    )
    arrays = (
        image_set.images.permute(0, 2, 3, 1).squeeze(-1).numpy()
        if image_set.image_shape[0] == 1
        else image_set.images.permute(0, 2, 3, 1).numpy()
    )

    class PilImages(Dataset):
        def __len__(self) -> int:
            return len(image_set)

        def __getitem__(self, i: int):
            return transform(Image.fromarray(arrays[i])), image_set.labels[i]

    loader = DataLoader(PilImages(), batch_size=batch_size, shuffle=True, num_workers=workers)
    start = time.perf_counter()
    for inputs, _ in loader:
        inputs.sum()
    return len(image_set) / (time.perf_counter() - start)


@command
def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    """Print images/s for both pipelines and their ratio; returns the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion-mnist", help="a lossprio.data name, or synthetic-cifar")
    parser.add_argument("--images", type=int, default=10_000, help="images per timed epoch")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2], help="DataLoader worker counts to time")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args(argv)
    image_set = synthetic_cifar(args.images) if args.dataset == "synthetic-cifar" else load(args.dataset, "train")
    image_set = image_set.subset(torch.arange(min(args.images, len(image_set))))
    results = {f"on_device_{args.device}": time_on_device(image_set, args.batch_size, args.device)}
    for workers in args.workers:
        results[f"dataloader_pil_{workers}_workers"] = time_dataloader(image_set, args.batch_size, workers)
    print(f"{image_set.name}: {len(image_set)} images {image_set.image_shape}, batch {args.batch_size}")
    on_device = results[f"on_device_{args.device}"]
    for name, rate in results.items():
        print(f"  {name:<28} {rate:>10,.0f} images/s   on-device is {on_device / rate:5.1f}x")
    return results


if __name__ == "__main__":
    main()
