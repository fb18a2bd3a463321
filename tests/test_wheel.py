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


def core_requirements_site(folder: Path) -> Path:
    """A folder of links to the distributions the wheel's core requirements resolve to in this
    environment (torch, torchvision, numpy, scipy, tqdm and what they need, dist-info included),
    so a fresh venv that reads it through a ``.pth`` file has them installed for pip without
    copying gigabytes of torch; the extras (matplotlib, papermill, …) are not among them."""
    import importlib.metadata as metadata

    from packaging.requirements import Requirement

    wanted, seen = [(name, ()) for name in ("torch", "torchvision", "numpy", "scipy", "tqdm")], set()
    folder.mkdir()
    while wanted:
        name, extras = wanted.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # a platform-only requirement absent here
        for line in dist.requires or []:
            requirement = Requirement(line)
            environments = [{"extra": extra} for extra in extras] or [{"extra": ""}]
            if requirement.marker is None or any(requirement.marker.evaluate(e) for e in environments):
                wanted.append((requirement.name, tuple(sorted(requirement.extras))))
        base = Path(dist.locate_file(""))
        for top in {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}:
            link, source = folder / top, base / top
            if source.exists() and not link.exists() and top != "bin":
                link.symlink_to(source)
    return folder


@pytest.mark.slow
def test_the_wheel_installs_without_extras_and_runs_selective_backprop(tmp_path):
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path / "dist"), str(ROOT))
    [wheel] = (tmp_path / "dist").glob("lossprio-*.whl")
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", str(venv))
    python = str(venv / "bin" / "python")
    site = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip()
    # the same torch as the project's environment, linked in; pip resolves the wheel's own requirements
    # around what is installed (and would fetch what is missing: nothing, offline)
    (Path(site) / "core-requirements.pth").write_text(str(core_requirements_site(tmp_path / "core")) + "\n")
    run(python, "-m", "pip", "uninstall", "--quiet", "--yes", "setuptools")  # the venv's old one would shadow the link
    run(python, "-m", "pip", "install", "--quiet", "--no-index", str(wheel))
    output = run(python, "-c", SB_LOOP, cwd=tmp_path)
    share = float(output.split()[-1])
    assert share == pytest.approx(0.5, abs=0.07)


@pytest.mark.slow
@pytest.mark.parametrize("form", ["checkout", "git"])
def test_the_readmes_install_lines_install_the_package(tmp_path, form):
    """README's ``pip install .`` (from a checkout) and ``pip install "lossprio @ git+…"`` (from
    git, here the clone itself: offline), each into a fresh venv; the dependencies and the build
    backend are the project environment's (on PYTHONPATH), so nothing is downloaded."""
    import os
    import sysconfig

    readme = (ROOT / "README.md").read_text()
    line = "(or: pip install .)" if form == "checkout" else 'pip install "lossprio @ git+'
    assert line in readme  # (the editable form's finder would collide with the project environment's own here)
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", str(venv))
    python = str(venv / "bin" / "python")
    env = {**os.environ, "PYTHONPATH": sysconfig.get_paths()["purelib"]}
    target = [str(ROOT)] if form == "checkout" else [f"lossprio @ git+file://{ROOT}"]
    pip = [python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", *target]
    result = subprocess.run(pip, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    check = "import lossprio, lossprio.loop; print(lossprio.__file__)"
    shown = subprocess.run([python, "-c", check], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert shown.returncode == 0, shown.stderr[-2000:]
    installed = Path(shown.stdout.strip())
    assert installed.is_relative_to(venv), installed
