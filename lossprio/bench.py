"""Benchmark: what selection costs next to the work it rides on.

For every selector: the median time of its bookkeeping (``select`` on a candidate batch's
logits: scoring, ranking or sampling, and its state updates), of the selection forward it
needs (0 if it needs none), and of one training step (forward+backward+step) on the same
model; beside them, the original Selective-Backprop method (a Python deque and a percentile
per example) on the same losses. ``python -m lossprio.bench [--json PATH] [--device cpu]``.
"""

from __future__ import annotations

import argparse
import inspect
import json
import random
import statistics
import time
from collections import deque
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from . import selectors
from .accounting import synchronize
from .assemble import resolve_device
from .checks import check_device, int_argument, path_argument
from .cli import command
from .models import build as build_model
from .records import device_name, git_commit, now
from .selectors.sb import SelectiveBackprop


def median_ms(fn: Callable[[], object], device: torch.device, repeats: int, warmup: int = 3) -> float:
    """Median wall-clock of ``fn`` in milliseconds (the device synchronised at both ends)."""
    times = []
    for k in range(warmup + repeats):
        synchronize(device)
        start = time.perf_counter()
        fn()
        synchronize(device)
        if k >= warmup:
            times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def naive_sb(losses: Tensor, history: deque, beta: float, rng: random.Random) -> list[int]:
    """The original SB method: losses to the host, into a deque, then per example a Python
    count of the history losses below it and a coin flip."""
    values = losses.tolist()
    history.extend(values)
    chosen = []
    for position, loss in enumerate(values):
        below = sum(1 for old in history if old < loss)
        if rng.random() < (below / len(history)) ** beta:
            chosen.append(position)
    return chosen


#: constructor settings that make a selector do its full work: no warm-up, importance sampling on
FULL_WORK = {"warmup_epochs": 0, "tau_switch": False}


def selector_settings(name: str, candidates: int, keep: int, num_examples: int, device: torch.device) -> dict:
    """Settings that make selector ``name`` do its full work, read off its constructor's signature."""
    accepted = inspect.signature(selectors.selector_class(name)).parameters
    offered = {
        **FULL_WORK,
        "keep": keep,
        "num_examples": num_examples,
        "epochs": 10,  # InfoBatch: a run's length
        "proxy_entropy": torch.rand(num_examples),
    }
    return {k: v for k, v in offered.items() if k in accepted}


def benchmark(device: torch.device, batch: int, candidates: int, keep: int, repeats: int) -> dict:
    """Time every selector and the naive SB on ``device``; returns the JSON-ready result."""
    generator = torch.Generator().manual_seed(0)
    model = build_model("mlp", num_classes=10, in_channels=1, image_size=28).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    train_inputs = torch.randn(batch, 1, 28, 28, generator=generator).to(device)
    train_targets = torch.randint(0, 10, (batch,), generator=generator).to(device)
    inputs = torch.randn(candidates, 1, 28, 28, generator=generator).to(device)
    targets = torch.randint(0, 10, (candidates,), generator=generator).to(device)
    num_examples = 50_000
    indices = torch.randperm(num_examples, generator=generator)[:candidates].to(device)
    extras = {"irreducible_loss": torch.rand(candidates, generator=generator).to(device)}

    def train_step() -> None:
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(train_inputs), train_targets).backward()
        optimizer.step()

    def selection_forward() -> torch.Tensor:
        with torch.no_grad():
            return model(inputs)

    train_ms = median_ms(train_step, device, repeats)
    model.eval()
    forward_ms = median_ms(selection_forward, device, repeats)
    logits = selection_forward()
    result = {
        "selectors": {},
        "device": str(device),
        "device_name": device_name(device),
        "batch": batch,
        "candidates": candidates,
        "keep": keep,
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "commit": git_commit(),
        "measured": now(),
    }
    for name in selectors.selector_names():
        selector = selectors.build(name, **selector_settings(name, candidates, keep, num_examples, device))
        bookkeeping = median_ms(lambda s=selector: s.select(indices, logits, targets, extras), device, repeats)
        result["selectors"][name] = {
            "bookkeeping_ms": bookkeeping,
            "selection_forward_ms": forward_ms if selector.needs_forward() else 0.0,
            "train_step_ms": train_ms,
        }
    losses = F.cross_entropy(logits, targets, reduction="none")
    history: deque = deque(torch.rand(1024, generator=generator).tolist(), maxlen=1024)
    rng = random.Random(0)
    result["naive_sb_ms"] = median_ms(lambda: naive_sb(losses, history, 1.0, rng), device, max(5, repeats // 10))
    return result


def tensor_sb_name() -> str:
    """The registry name of :class:`~lossprio.selectors.sb.SelectiveBackprop`, what the naive SB is timed against."""
    return next(n for n in selectors.selector_names() if selectors.selector_class(n) is SelectiveBackprop)


def print_table(result: dict) -> None:
    """One row per selector: the three times and bookkeeping as a share of the step and forward."""
    print(
        f"device {result['device']} ({result['device_name']}), MLP 784-1000-1000-10, "
        f"candidates {result['candidates']}, training batch {result['batch']}, keep {result['keep']}"
    )
    print(
        f"{'selector':<14}{'bookkeeping ms':>16}{'sel. forward ms':>17}{'train step ms':>15}"
        f"{'% of step':>11}{'% of forward':>14}"
    )
    for name, row in result["selectors"].items():
        forward = row["selection_forward_ms"]
        share_forward = f"{100 * row['bookkeeping_ms'] / forward:13.1f}%" if forward else f"{'(none)':>14}"
        print(
            f"{name:<14}{row['bookkeeping_ms']:16.4f}{forward:17.4f}{row['train_step_ms']:15.4f}"
            f"{100 * row['bookkeeping_ms'] / row['train_step_ms']:10.2f}%{share_forward}"
        )
    sb = result["selectors"][tensor_sb_name()]["bookkeeping_ms"]
    print(
        f"naive per-example SB (deque + percentile): {result['naive_sb_ms']:.3f} ms, "
        f"{result['naive_sb_ms'] / sb:.0f}x the tensor SB"
    )


@command
def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch", type=int_argument(1), default=128, help="training batch b")
    parser.add_argument("--candidates", type=int_argument(1), default=128, help="candidate batch B")
    parser.add_argument(
        "--keep",
        type=int_argument(1),
        default=None,
        help="examples kept by top-k and sampling selectors (default B/10)",
    )
    parser.add_argument("--repeats", type=int_argument(1), default=200)
    parser.add_argument("--json", type=path_argument(), default=None, help="also write the result as JSON here")
    args = parser.parse_args(argv)
    if args.json is not None and args.json.is_dir():
        parser.error(f"--json {str(args.json)!r} is a folder; give a file name, e.g. {args.json / 'bench.json'}")
    try:
        check_device(args.device, "--device")
        resolve_device(args.device)
    except ValueError as error:
        parser.error(str(error))
    if args.keep is not None and args.keep > args.candidates:
        parser.error(f"--keep {args.keep} exceeds --candidates {args.candidates}")
    keep = args.keep or max(1, args.candidates // 10)
    result = benchmark(torch.device(args.device), args.batch, args.candidates, keep, args.repeats)
    print_table(result)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
