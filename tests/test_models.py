import pytest
import torch
from torch import nn

from lossprio import models


@pytest.mark.parametrize("name", models.model_names())
@pytest.mark.parametrize("channels,size", [(1, 28), (3, 32)])
def test_every_model_takes_grey_28_and_colour_32(name, channels, size):
    kwargs = {"depth": 10, "widen": 1} if name == "wrn" else {}
    model = models.build(name, num_classes=7, in_channels=channels, image_size=size, **kwargs)
    assert isinstance(model.head, nn.Linear) and model.head.out_features == 7
    out = model(torch.randn(3, channels, size, size))
    assert out.shape == (3, 7) and torch.isfinite(out).all()


def test_parameter_counts_match_the_papers():
    wrn = models.count_parameters(models.build("wrn", 10, 3, depth=28, widen=10))
    resnet = models.count_parameters(models.build("resnet18", 10, 3))
    small = models.count_parameters(models.build("small_cnn", 10, 3))
    assert wrn == pytest.approx(36.5e6, rel=0.005)
    assert resnet == pytest.approx(11.17e6, rel=0.005)
    assert resnet / small == pytest.approx(21, abs=1)  # paper M: 21x fewer parameters
    # the stem's width is the paper's 16 unless a test narrows it: WRN-10-1 at width 4 has every layer a quarter as wide
    narrow = models.build("wrn", 10, 3, depth=10, widen=1, width=4)
    assert [m.out_channels for m in narrow.modules() if isinstance(m, nn.Conv2d)][:3] == [4, 4, 4]
    assert narrow.head.in_features == 16 and models.count_parameters(narrow) < models.count_parameters(
        models.build("wrn", 10, 3, depth=10, widen=1)
    )


def test_bad_model_parameters_are_named():
    with pytest.raises(ValueError, match="unknown model 'vgg'; allowed: fast_cnn, mlp, resnet18, small_cnn, wrn"):
        models.build("vgg", 10, 3)
    with pytest.raises(ValueError, match="image_size=16: model 'small_cnn' needs inputs of at least 22"):
        models.build("small_cnn", 10, 1, image_size=16)
    with pytest.raises(ValueError, match="depth=27"):
        models.build("wrn", 10, 3, depth=27)
    with pytest.raises(ValueError, match="width=0"):
        models.build("wrn", 10, 3, depth=10, widen=1, width=0)
    with pytest.raises(ValueError, match="num_classes=0"):
        models.build("mlp", 0, 1)
