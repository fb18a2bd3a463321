"""Networks of the three papers and a fast CNN for CPU runs; ``build(name, num_classes, in_channels, ...)``.

Every model ends in a ``head`` (``nn.Linear``), so the training loop can read the penultimate
features (last-layer gradient norms need their norm).
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from .checks import check_known, check_positive_int, check_range
from .registry import Registry

MODELS: Registry[nn.Module] = Registry("model")


def build(name: str, num_classes: int, in_channels: int, image_size: int = 32, **kwargs) -> nn.Module:
    """Build model ``name`` for ``in_channels``×``image_size``×``image_size`` inputs.

    Args:
        name: one of :func:`model_names`.
        num_classes: outputs of the head.
        in_channels: 1 (grey) or 3 (colour) for the datasets here.
        image_size: side of the square input; models that cannot take it raise ``ValueError``.
        **kwargs: the model's own settings (``wrn``: depth, widen, dropout, width; ``mlp``: hidden).
    """
    factory = MODELS.get(name)
    check_positive_int("num_classes", num_classes)
    check_positive_int("in_channels", in_channels)
    check_positive_int("image_size", image_size)
    return factory(num_classes=num_classes, in_channels=in_channels, image_size=image_size, **kwargs)


#: examples per evaluation batch, by model: the most that runs fastest per example (the fast CNN
#: measured about 30 % cheaper per example at 256 than at 1024 on this project's CPUs)
EVAL_BATCH: dict[str, int] = {"fast_cnn": 256}
DEFAULT_EVAL_BATCH = 1024


def eval_batch_size(name: str) -> int:
    """How many examples model ``name`` evaluates per batch (:data:`EVAL_BATCH`)."""
    return EVAL_BATCH.get(name, DEFAULT_EVAL_BATCH)


#: the arguments every factory gets from the data, not from the user
FROM_DATA = ("num_classes", "in_channels", "image_size")


def check_settings(setting: str, name: str, settings: Mapping[str, Any], shape: Any) -> None:
    """``ValueError`` naming ``setting`` if model ``name`` has no setting of one of the keys (listing
    those it has) or cannot be built with them for data of ``shape`` (a :class:`lossprio.data.Shape`);
    the trial build is on the meta device (no memory, no initialisation)."""
    try:
        key = json.dumps(dict(settings), sort_keys=True)
    except TypeError:
        raise ValueError(f"{setting}={settings!r} must hold plain values (numbers, strings, lists)") from None
    _check_settings(setting, name, key, shape.channels, shape.size, shape.classes)


@functools.lru_cache(maxsize=1024)
def _check_settings(setting: str, name: str, key: str, channels: int, size: int, classes: int) -> None:
    settings = json.loads(key)
    factory = MODELS.get(name)
    allowed = [p for p in inspect.signature(factory).parameters if p not in FROM_DATA]
    check_known(setting, settings, allowed, f"model {name!r}")
    try:
        with torch.device("meta"):
            build(name, num_classes=classes, in_channels=channels, image_size=size, **settings)
    except (ValueError, TypeError, RuntimeError) as error:
        raise ValueError(f"{setting} of model {name!r}: {error}") from None


def model_names() -> list[str]:
    """Names :func:`build` accepts."""
    return MODELS.names()


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _require_size(model: str, image_size: int, minimum: int) -> None:
    if image_size < minimum:
        raise ValueError(f"image_size={image_size}: model {model!r} needs inputs of at least {minimum}×{minimum}")


# ----------------------------------------------------------------------------- wide ResNet


class WideBlock(nn.Module):
    """Pre-activation block: BN-ReLU-conv3×3-(dropout)-BN-ReLU-conv3×3, plus a shortcut."""

    def __init__(self, inputs: int, outputs: int, stride: int, dropout: float) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(inputs)
        self.conv1 = nn.Conv2d(inputs, outputs, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(outputs)
        self.conv2 = nn.Conv2d(outputs, outputs, 3, 1, 1, bias=False)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.shortcut = (
            nn.Conv2d(inputs, outputs, 1, stride, 0, bias=False) if stride != 1 or inputs != outputs else None
        )

    def forward(self, x: Tensor) -> Tensor:
        activated = torch.relu(self.bn1(x))
        residual = x if self.shortcut is None else self.shortcut(activated)
        out = self.conv1(activated)
        out = self.conv2(self.dropout(torch.relu(self.bn2(out))))
        return out + residual


class WideResNet(nn.Module):
    """WRN-depth-widen (Zagoruyko & Komodakis 2016); WRN-28-10 has ≈ 36.5 M parameters. ``width``
    is the stem's channels (16 in the paper; the groups have ``width`` × ``widen`` × 1, 2, 4): a
    smaller one only to make a test's model cheaper."""

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        depth: int = 28,
        widen: int = 10,
        dropout: float = 0.0,
        width: int = 16,
    ) -> None:
        super().__init__()
        if (depth - 4) % 6 != 0 or depth < 10:
            raise ValueError(f"depth={depth}: a wide ResNet needs depth = 6n + 4 with n >= 1 (10, 16, 22, 28, ...)")
        check_positive_int("widen", widen)
        check_positive_int("width", width)
        check_range("dropout", dropout, 0.0, 1.0, high_open=True)
        blocks_per_group = (depth - 4) // 6
        widths = [width, width * widen, 2 * width * widen, 4 * width * widen]
        layers: list[nn.Module] = [nn.Conv2d(in_channels, widths[0], 3, 1, 1, bias=False)]
        for group, stride in zip(range(3), (1, 2, 2)):
            for block in range(blocks_per_group):
                inputs = widths[group] if block == 0 else widths[group + 1]
                layers.append(WideBlock(inputs, widths[group + 1], stride if block == 0 else 1, dropout))
        layers += [nn.BatchNorm2d(widths[3]), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(widths[3], num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))


@MODELS.register("wrn")
def _wrn(
    num_classes: int,
    in_channels: int,
    image_size: int,
    depth: int = 28,
    widen: int = 10,
    dropout: float = 0.0,
    width: int = 16,
) -> nn.Module:
    _require_size("wrn", image_size, 4)
    return WideResNet(num_classes, in_channels, depth, widen, dropout, width)


# ----------------------------------------------------------------------------- ResNet-18


class BasicBlock(nn.Module):
    """conv3×3-BN-ReLU-conv3×3-BN plus a (projected) shortcut, then ReLU."""

    def __init__(self, inputs: int, outputs: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(inputs, outputs, 3, stride, 1, bias=False),
            nn.BatchNorm2d(outputs),
            nn.ReLU(inplace=True),
            nn.Conv2d(outputs, outputs, 3, 1, 1, bias=False),
            nn.BatchNorm2d(outputs),
        )
        self.shortcut = nn.Identity()
        if stride != 1 or inputs != outputs:
            self.shortcut = nn.Sequential(nn.Conv2d(inputs, outputs, 1, stride, bias=False), nn.BatchNorm2d(outputs))

    def forward(self, x: Tensor) -> Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


@MODELS.register("resnet18")
def _resnet18(num_classes: int, in_channels: int, image_size: int, width: int = 64) -> nn.Module:
    """ResNet-18, CIFAR variant: 3×3 stride-1 stem, no max-pool (≈ 11.2 M parameters at the
    standard ``width`` 64, the first stage's channels; the stages double it)."""
    _require_size("resnet18", image_size, 8)
    check_positive_int("width", width)
    layers: list[nn.Module] = [
        nn.Conv2d(in_channels, width, 3, 1, 1, bias=False),
        nn.BatchNorm2d(width),
        nn.ReLU(inplace=True),
    ]
    inputs = width
    for outputs, stride in ((width, 1), (2 * width, 2), (4 * width, 2), (8 * width, 2)):
        layers += [BasicBlock(inputs, outputs, stride), BasicBlock(outputs, outputs, 1)]
        inputs = outputs
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return HeadedNet(nn.Sequential(*layers), nn.Linear(8 * width, num_classes))


class HeadedNet(nn.Module):
    """``head(features(x))``: a feature extractor and a linear head."""

    def __init__(self, features: nn.Module, head: nn.Linear) -> None:
        super().__init__()
        self.features = features
        self.head = head

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))


# ----------------------------------------------------------------------------- small models


def _small_cnn_side(image_size: int) -> int:
    side = image_size
    for _ in range(3):
        side = (side - 2) // 2  # 3×3 conv without padding, then 2×2 max-pool
    return side


@MODELS.register("small_cnn")
def _small_cnn(num_classes: int, in_channels: int, image_size: int) -> nn.Module:
    """Paper M's irreducible-loss CNN: 3 × (conv3×3 no padding, max-pool, ReLU) at 64/128/256,
    then fully connected → 128 → 256 → classes (1024 inputs at 32×32, 256 at 28×28)."""
    side = _small_cnn_side(image_size)
    if side < 1:
        raise ValueError(f"image_size={image_size}: model 'small_cnn' needs inputs of at least 22×22")
    layers: list[nn.Module] = []
    inputs = in_channels
    for outputs in (64, 128, 256):
        layers += [nn.Conv2d(inputs, outputs, 3), nn.MaxPool2d(2), nn.ReLU(inplace=True)]
        inputs = outputs
    layers += [
        nn.Flatten(),
        nn.Linear(256 * side * side, 128),
        nn.ReLU(inplace=True),
        nn.Linear(128, 256),
        nn.ReLU(inplace=True),
    ]
    return HeadedNet(nn.Sequential(*layers), nn.Linear(256, num_classes))


@MODELS.register("mlp")
def _mlp(num_classes: int, in_channels: int, image_size: int, hidden: tuple[int, ...] = (1000, 1000)) -> nn.Module:
    """Paper M's MLP for (Q)MNIST: flatten, then ReLU layers of ``hidden`` widths, then the head."""
    if not isinstance(hidden, (list, tuple)):
        raise ValueError(f"hidden={hidden!r} must be a list of layer widths, e.g. [1000, 1000]")
    layers: list[nn.Module] = [nn.Flatten()]
    inputs = in_channels * image_size * image_size
    for width in hidden:
        check_positive_int("hidden width", width)
        layers += [nn.Linear(inputs, width), nn.ReLU(inplace=True)]
        inputs = width
    return HeadedNet(nn.Sequential(*layers), nn.Linear(inputs, num_classes))


@MODELS.register("fast_cnn")
def _fast_cnn(num_classes: int, in_channels: int, image_size: int, width: int = 32) -> nn.Module:
    """A 2-conv CNN (``width``/2·``width`` channels) for real runs on a CPU in minutes."""
    _require_size("fast_cnn", image_size, 8)
    check_positive_int("width", width)
    features = nn.Sequential(
        nn.Conv2d(in_channels, width, 3, padding=1, bias=False),
        nn.BatchNorm2d(width),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
        nn.Conv2d(width, 2 * width, 3, padding=1, bias=False),
        nn.BatchNorm2d(2 * width),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
        nn.AdaptiveAvgPool2d(4),
        nn.Flatten(),
        nn.Linear(2 * width * 16, 128),
        nn.ReLU(inplace=True),
    )
    return HeadedNet(features, nn.Linear(128, num_classes))
