"""Mixed precision: bf16 where a device has it, fp16 with loss scaling where it does not (a T4),
and a plain backward and step, bit for bit, whenever no scaling is needed."""

import pytest
import torch
from torch import nn

from lossprio import precision
from lossprio.train import run

from .test_train import small_config


def test_autocast_takes_bf16_where_the_device_runs_it_and_fp16_on_a_gpu_without_it(monkeypatch):
    assert precision.half_dtype(torch.device("cpu")) == torch.bfloat16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert precision.half_dtype(torch.device("cuda")) == torch.bfloat16  # an A100, an H100
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert precision.half_dtype(torch.device("cuda")) == torch.float16  # a T4, a V100
    assert not precision.LossScaler(torch.device("cpu"), amp=True).enabled  # bf16 needs no scaling


def one_step(scaler: precision.LossScaler, loss_scale: float = 1.0) -> nn.Linear:
    torch.manual_seed(0)
    model = nn.Linear(4, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = loss_scale * model(torch.randn(8, 4)).pow(2).mean()
    optimizer.zero_grad()
    scaler.backward_and_step(loss, optimizer)
    return model


def test_without_scaling_the_step_is_a_plain_backward_and_step_bit_for_bit():
    torch.manual_seed(0)
    model = nn.Linear(4, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model(torch.randn(8, 4)).pow(2).mean().backward()
    optimizer.step()
    scaled = one_step(precision.LossScaler(torch.device("cpu"), amp=False))
    assert torch.equal(scaled.weight, model.weight) and torch.equal(scaled.bias, model.bias)


@pytest.fixture
def no_bf16(monkeypatch):
    """This CPU as if it were a GPU without bf16: autocast in fp16, the loss scaled."""
    monkeypatch.setattr(precision, "bf16_supported", lambda device: False)


def test_fp16_scaling_unscales_before_the_step_and_skips_a_step_whose_gradients_overflowed(no_bf16):
    plain = one_step(precision.LossScaler(torch.device("cpu"), amp=False))
    scaler = precision.LossScaler(torch.device("cpu"), amp=True)
    assert scaler.enabled
    scaled = one_step(scaler)  # the loss × 65536 on the way back, the gradients ÷ 65536 before the step
    assert torch.allclose(scaled.weight, plain.weight) and scaler.state_dict()["scale"] == 2.0**16
    untouched = one_step(precision.LossScaler(torch.device("cpu"), amp=False), loss_scale=0.0)
    overflowed = precision.LossScaler(torch.device("cpu"), amp=True)
    skipped = one_step(overflowed, loss_scale=float("inf"))
    assert torch.equal(skipped.weight, untouched.weight)  # no step taken
    assert overflowed.state_dict()["scale"] == 2.0**15  # and the scale halved


def test_a_run_trains_in_fp16_with_its_scale_in_every_checkpoint(no_bf16, tmp_path, monkeypatch):
    from lossprio import train

    saved = []
    real = train.save_tensors
    monkeypatch.setattr(train, "save_tensors", lambda state, *a, **k: (saved.append(state), real(state, *a, **k)))
    config = small_config(amp=True, epochs=2, device="cpu")
    with pytest.warns(RuntimeWarning, match="amp=True on cpu"):
        record = run(config, tmp_path, progress=False, checkpoint_every_s=0.0)
    assert record.status == "finished" and saved
    assert all(state["loss_scaler"]["scale"] > 0 for state in saved)  # a resume restores the scale it reached
    restored = precision.LossScaler(torch.device("cpu"), amp=True)
    restored.load_state_dict({**saved[-1]["loss_scaler"], "scale": 8.0})
    assert restored.state_dict()["scale"] == 8.0
