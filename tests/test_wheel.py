"""`pip install lossprio` works as a library: the built wheel, installed without extras into a
fresh virtual environment, imports and runs Selective-Backprop in a plain loop."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SB_LOOP = textwrap.dedent("""
    import importlib.util
    import torch
    from torch import nn
    from lossprio import Prioritizer, make_selector

    assert importlib.util.find_spec("matplotlib") is None and importlib.util.find_spec("papermill") is None  # no extras
    torch.manual_seed(0)
    inputs, targets = torch.randn(512, 8), torch.randint(0, 3, (512,))
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    loop = Prioritizer(make_selector("sb", beta=1.0, warmup_epochs=0), model, batch_size=32)
    for epoch in range(4):
        for start in range(0, 512, 32):
            loop.step(inputs[start:start + 32], targets[start:start + 32], torch.arange(start, start + 32), optimizer)
        loop.finish_epoch(optimizer)
    print(f"share trained {loop.share_trained:.3f}")
""")


def run(*command: str, cwd: Path = ROOT) -> str:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result.stdout


@pytest.mark.slow
def test_the_wheel_installs_without_extras_and_runs_selective_backprop(tmp_path):
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path / "dist"), str(ROOT))
    [wheel] = (tmp_path / "dist").glob("lossprio-*.whl")
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", str(venv))
    python = str(venv / "bin" / "python")
    import torch
    import torchvision

    # the same torch as the project's environment (pip resolves the wheel's own requirements around it)
    pins = [f"torch=={torch.__version__.split('+')[0]}", f"torchvision=={torchvision.__version__.split('+')[0]}"]
    run(python, "-m", "pip", "install", "--quiet", str(wheel), *pins)
    output = run(python, "-c", SB_LOOP, cwd=tmp_path)
    share = float(output.split()[-1])
    assert share == pytest.approx(0.5, abs=0.07)
