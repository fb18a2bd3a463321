"""The GPU check: what the engine does on a lent accelerator, measured in a few minutes.

1. **Throughput**: examples per second of a training step (forward, backward, step) and of a
   no-grad forward of a CIFAR-size model on device-resident data (autocast and channels_last on
   CUDA: bf16, or fp16 with loss scaling on a card without bf16), the ratio of a backward pass to a
   forward, and the TFLOP/s sustained, against what the cost estimates assume.
2. **Selection overhead**: every selector's bookkeeping beside the forward it rides on
   (:func:`lossprio.bench.benchmark`).
3. **SB's share of its physical bound**: an epoch of Selective-Backprop (β = 1, through the
   selection core) against an epoch of uniform training on the same data. SB's wall-clock speedup
   cannot exceed ``(F + B) / (F + s (F + B))`` for a forward F, a backward B and the share s it
   trains on (a forward over every candidate, a training step on a share s of them); the check
   reports the speedup reached and its share of that bound.
4. **One short run**: the book's trainer on the given dataset for a few hundred steps, its record
   written where ``--out`` says.

``python -m lossprio.gpu_check --out gpu_check/`` writes ``gpu_check.json`` there and prints a
summary naming the card. ``--small`` shrinks every part (what the CPU tests run).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from .accounting import synchronize
from .checks import path_argument
from .cli import Parser, command
from .precision import LossScaler, autocast, half_dtype


def throughput(
    device: torch.device, model_name: str, kwargs: dict, batch: int, steps: int, side: int = 32
) -> dict[str, float]:
    """Training and forward examples per second of ``model_name`` on ``batch``-sized batches of
    random ``side``-pixel images, and the backward-to-forward time ratio."""
    from .assemble import amp_enabled
    from .config import TrainConfig
    from .models import build

    amp = amp_enabled(TrainConfig(device=str(device)), device)
    model = build(model_name, num_classes=10, in_channels=3, image_size=side, **kwargs).to(device)
    channels_last = device.type == "cuda"
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    inputs = torch.randn(batch, 3, side, side, device=device)
    if channels_last:
        inputs = inputs.contiguous(memory_format=torch.channels_last)
    targets = torch.randint(0, 10, (batch,), device=device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    scaler = LossScaler(device, amp)

    def train() -> None:
        with autocast(device, amp):
            loss = F.cross_entropy(model(inputs).float(), targets)
        optimizer.zero_grad(set_to_none=True)
        scaler.backward_and_step(loss, optimizer)

    def forward() -> None:
        with torch.no_grad(), autocast(device, amp):
            model(inputs)

    seconds = {}
    for name, step in (("train", train), ("forward", forward)):
        for _ in range(3):
            step()
        synchronize(device)
        start = time.perf_counter()
        for _ in range(steps):
            step()
        synchronize(device)
        seconds[name] = (time.perf_counter() - start) / steps
    from .cost import forward_flops

    train_per_s = batch / seconds["train"]
    return {
        "train_examples_per_s": train_per_s,
        "forward_examples_per_s": batch / seconds["forward"],
        "backward_to_forward": (seconds["train"] - seconds["forward"]) / seconds["forward"],
        # what lossprio.cost's estimates assume a card sustains: a training step counted as 3 forwards
        "sustained_tflops": 3 * forward_flops(model_name, kwargs, 3, side, 10) * train_per_s / 1e12,
        "amp": amp,
        "autocast": str(half_dtype(device)).removeprefix("torch.") if amp else None,
    }


def sb_against_uniform(device: torch.device, examples: int, batch: int, side: int = 32) -> dict[str, float]:
    """An epoch of SB (β = 1, no warm-up) and one of uniform on the same random data and model
    shape: their seconds, SB's speedup, and its share of the physical bound for the share it trained."""
    from . import Prioritizer, make_selector
    from .models import build

    generator = torch.Generator().manual_seed(0)
    inputs = torch.randn(examples, 3, side, side, generator=generator).to(device)
    targets = torch.randint(0, 10, (examples,), generator=generator).to(device)
    indices = torch.arange(examples, device=device)

    def epoch(selective: bool) -> tuple[float, float]:
        torch.manual_seed(0)
        model = build("resnet18", num_classes=10, in_channels=3, image_size=side, width=16).to(device)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        loop = Prioritizer(make_selector("sb", beta=1.0, warmup_epochs=0), model, batch_size=batch)
        synchronize(device)
        start = time.perf_counter()
        for first in range(0, examples, batch):
            part = slice(first, first + batch)
            if selective:
                loop.step(inputs[part], targets[part], indices[part], optimizer)
            else:
                optimizer.zero_grad(set_to_none=True)
                F.cross_entropy(model(inputs[part]), targets[part]).backward()
                optimizer.step()
        if selective:
            loop.finish_epoch(optimizer)
        synchronize(device)
        return time.perf_counter() - start, loop.share_trained if selective else 1.0

    epoch(False)  # warm-up: kernels chosen, memory allocated
    uniform, _ = epoch(False)
    selective, share = epoch(True)
    measured = throughput(device, "resnet18", {"width": 16}, batch, steps=5, side=side)
    ratio = measured["backward_to_forward"]
    bound = (1 + ratio) / (1 + share * (1 + ratio))
    return {
        "uniform_s": uniform,
        "sb_s": selective,
        "share_trained": share,
        "speedup": uniform / selective,
        "bound": bound,
        "share_of_bound": (uniform / selective) / bound,
    }


def short_run(device: torch.device, out: Path, dataset: str, data_root: str | None, small: bool) -> dict[str, Any]:
    """A few hundred steps of the book's trainer (RHO-LOSS on paper M's loop), its record in ``out``."""
    from .config import TrainConfig
    from .train import run

    config = TrainConfig(
        dataset=dataset,
        data_root=data_root,
        train_fraction=0.02 if small else 0.5,
        test_fraction=0.05 if small else 0.2,
        split="half",
        model="mlp" if small else "resnet18",
        model_kwargs={"hidden": [32]} if small else {"width": 32},
        il_model="mlp" if small else "resnet18",
        il_model_kwargs={"hidden": [32]} if small else {"width": 32},
        il_epochs=1 if small else 5,
        selector="rho",
        selector_kwargs={"keep": 32},
        batch_size=32,
        candidate_batch=320,
        optimizer="adamw",
        lr=1e-3,
        epochs=2 if small else 10,
        eval_every=50,
        device=str(device),
    )
    record = run(config, out, progress=False)
    return {
        "run_id": record.run_id,
        "best_test_error": record.best_test_error,
        "wall_s": record.counters["wall_s"],
        "setup_s": record.setup_seconds,
        "phase_seconds": record.phase_seconds,
    }


def check(device: torch.device, out: Path, dataset: str, data_root: str | None, small: bool) -> dict[str, Any]:
    """All four parts; the result as JSON-ready data, written to ``out/gpu_check.json``."""
    from .bench import benchmark
    from .records import device_name, git_commit, now

    batch = 16 if small else 256
    result = {
        "device": str(device),
        "device_name": device_name(device),
        "torch": torch.__version__,
        "commit": git_commit(),
        "measured": now(),
        "throughput": {
            name: throughput(device, model, kwargs, batch, steps=2 if small else 20, side=8 if small else 32)
            for name, (model, kwargs) in {
                "ResNet-18": ("resnet18", {} if not small else {"width": 4}),
                "WRN-16-4": ("wrn", {"depth": 16, "widen": 4} if not small else {"depth": 10, "widen": 1}),
            }.items()
        },
        "selection": benchmark(
            device, batch=batch, candidates=batch, keep=max(1, batch // 10), repeats=3 if small else 50
        ),
        "sb_bound": sb_against_uniform(device, 64 if small else 20_000, batch, side=8 if small else 32),
        "short_run": short_run(device, out / "runs", dataset, data_root, small),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu_check.json").write_text(json.dumps(result, indent=1, default=str))
    return result


def summary(result: dict[str, Any]) -> str:
    """The measured figures in a few lines, naming the card."""
    lines = [f"{result['device_name']} ({result['device']}), torch {result['torch']}, commit {result['commit'][:10]}"]
    for name, found in result["throughput"].items():
        lines.append(
            f"{name}: {found['train_examples_per_s']:.0f} training examples/s, {found['forward_examples_per_s']:.0f} "
            f"forward examples/s, backward = {found['backward_to_forward']:.2f} × forward, "
            f"{found['sustained_tflops']:.1f} TFLOP/s sustained"
            + (f" ({found['autocast']} autocast)" if found["amp"] else "")
        )
    selectors = result["selection"]["selectors"]
    worst = max(selectors, key=lambda n: selectors[n]["bookkeeping_ms"] / selectors[n]["train_step_ms"])
    share = 100 * selectors[worst]["bookkeeping_ms"] / selectors[worst]["train_step_ms"]
    lines.append(f"selection: the costliest bookkeeping ({worst}) is {share:.1f} % of a training step")
    sb = result["sb_bound"]
    lines.append(
        f"SB β=1: trained {100 * sb['share_trained']:.0f} %, {sb['speedup']:.2f}x over uniform per epoch, "
        f"{100 * sb['share_of_bound']:.0f} % of its bound {sb['bound']:.2f}x"
    )
    run = result["short_run"]
    lines.append(f"short run {run['run_id']}: best test error {run['best_test_error']:.3f} in {run['wall_s']:.0f} s")
    return "\n".join(lines)


@command
def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = Parser("lossprio.gpu_check", __doc__.split("\n\n")[0])
    parser.add_argument("--out", type=path_argument(), default=Path("gpu_check"), help="where the JSON and the run go")
    parser.add_argument("--device", default="cuda", help="the device to check")
    parser.add_argument("--dataset", default="fashion-mnist", help="the short run's dataset (offline files)")
    parser.add_argument("--data-root", default=None, help="the dataset's folder (default: lossprio.data's)")
    parser.add_argument("--small", action="store_true", help="every part shrunk (the CPU tests)")
    args = parser.parse_args(argv)
    from .assemble import resolve_device

    result = check(resolve_device(args.device), args.out, args.dataset, args.data_root, args.small)
    print(summary(result))
    return result


if __name__ == "__main__":
    main()
