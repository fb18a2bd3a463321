"""The selectors in a plain PyTorch loop (lossprio.loop): what is trained, with which weights,
checkpoints that continue identically, and refusals that name the problem."""

import copy

import pytest
import torch
from torch import nn

from lossprio import Prioritizer, fit_irreducible_model, make_selector, per_example_losses
from lossprio.selectors import selector_names

N, FEATURES, CLASSES, BATCH = 96, 6, 3, 16


def data(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(N, FEATURES, generator=generator)
    return inputs, (inputs[:, 0] > 0).long() + (inputs[:, 1] > 1).long()


def model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(FEATURES, 16), nn.ReLU(), nn.Linear(16, CLASSES))


def selector_for(name: str):
    """Each selector as a user would build it for candidate batches of 16 (a quarter kept where it keeps a count)."""
    settings = {
        "stale_sb": {"num_examples": N, "warmup_epochs": 0},
        "svp": {"proxy_entropy": torch.rand(N, generator=torch.Generator().manual_seed(1)), "keep": 4},
        "kath18": {"keep": 4, "tau_switch": False},
        "rs2": {"num_examples": N, "fraction": 0.5},
        "infobatch": {"num_examples": N, "epochs": 4},
    }.get(name, {})
    if name in ("sb", "sbe", "sb_rho"):
        settings = {"warmup_epochs": 0}
    elif name in ("uniform", "loss", "grad_norm", "grad_norm_is", "irreducible", "rho"):
        settings = {"keep": 4}
    return make_selector(name, seed=3, **settings)


def irreducible_table() -> torch.Tensor:
    return torch.rand(N, generator=torch.Generator().manual_seed(2))


def prioritizer(name: str, net: nn.Module, batch_size: int = 4) -> Prioritizer:
    return Prioritizer(selector_for(name), net, batch_size=batch_size, irreducible_losses=irreducible_table())


@pytest.mark.parametrize("name", selector_names())
def test_a_step_trains_only_the_chosen_examples_with_their_weights(name):
    inputs, targets = data()
    indices = torch.arange(N)
    chooser, trainer = prioritizer(name, model()), prioritizer(name, model())
    trained, expected = [], []  # what would be back-propagated, and what the choices say
    for start in range(0, N, BATCH):
        part = slice(start, start + BATCH)
        selection = chooser.choose(inputs[part], targets[part], indices[part])
        expected += [(inputs[part][selection.chosen], selection.weights)]
        trained += trainer.batches(inputs[part], targets[part], indices[part])
    trained += trainer.end_epoch()
    assert torch.equal(torch.cat([b.inputs for b in trained]), torch.cat([x for x, _ in expected]))
    assert torch.equal(torch.cat([b.weights for b in trained]), torch.cat([w for _, w in expected]))
    assert all(len(b) == 4 for b in trained[:-1])  # full training batches, the rest at the epoch's end


def test_selective_backprop_with_beta_one_trains_about_half_in_a_real_loop():
    inputs, targets = data()
    net = model()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.0)  # losses that do not drift: CDF(loss) is uniform
    loop = Prioritizer(make_selector("sb", beta=1.0, warmup_epochs=0, seed=0), net, batch_size=BATCH)
    for _ in range(20):
        for start in range(0, N, BATCH):
            loop.step(
                inputs[start : start + BATCH],
                targets[start : start + BATCH],
                torch.arange(start, start + BATCH),
                optimizer,
            )
        loop.finish_epoch(optimizer)
    assert loop.share_trained == pytest.approx(0.5, abs=0.06)


def run_steps(loop: Prioritizer, optimizer, epochs: range) -> list[torch.Tensor]:
    inputs, targets = data(1)
    losses = []
    for _ in epochs:
        for start in range(0, N, BATCH):
            part = slice(start, start + BATCH)
            losses += loop.step(inputs[part], targets[part], torch.arange(start, start + BATCH), optimizer)
        losses += loop.finish_epoch(optimizer)
    return losses


@pytest.mark.parametrize("name", selector_names())
def test_a_checkpoint_continues_the_loop_identically(name):
    net = model()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    loop = prioritizer(name, net, batch_size=5)  # a queue that carries examples across candidate batches
    run_steps(loop, optimizer, range(2))
    saved = copy.deepcopy({"model": net.state_dict(), "optimizer": optimizer.state_dict(), "loop": loop.state_dict()})
    whole = run_steps(loop, optimizer, range(2))
    net2 = model(seed=9)
    optimizer2 = torch.optim.SGD(net2.parameters(), lr=0.1, momentum=0.9)
    resumed = prioritizer(name, net2, batch_size=5)
    net2.load_state_dict(saved["model"])
    optimizer2.load_state_dict(saved["optimizer"])
    resumed.load_state_dict(saved["loop"])
    assert [float(v) for v in run_steps(resumed, optimizer2, range(2))] == [float(v) for v in whole]


def test_irreducible_losses_from_a_users_holdout():
    inputs, targets = data()
    holdout_inputs, holdout_targets = data(5)
    il_model = fit_irreducible_model(model(1), holdout_inputs, holdout_targets, epochs=30, lr=1e-2)
    losses = per_example_losses(il_model, inputs, targets)
    untrained = per_example_losses(model(1), inputs, targets)
    assert losses.shape == (N,) and losses.mean() < untrained.mean()  # it learned from the holdout
    loop = Prioritizer(make_selector("rho", keep=4), model(), batch_size=4, irreducible_losses=losses)
    selection = loop.choose(inputs[:16], targets[:16], torch.arange(16))
    assert selection.chosen.numel() == 4


@pytest.mark.parametrize(
    "build, call, message",
    [
        (
            lambda: Prioritizer(make_selector("sb"), model(), loss_fn=nn.CrossEntropyLoss()),
            "step",
            r'one loss per example.*reduction="none"',
        ),
        (
            lambda: Prioritizer(make_selector("stale_sb", num_examples=N), model()),
            "no indices",
            "looks examples up by dataset index: give indices",
        ),
        (lambda: Prioritizer(make_selector("rho", keep=4), model()), None, "needs irreducible_losses"),
        (lambda: Prioritizer(make_selector("loss", keep=4), model()), "bad targets", r"targets must lie in \[0, 3\)"),
        (
            lambda: Prioritizer(make_selector("loss", keep=4), model()),
            "short targets",
            "targets must be a 1-D integer tensor of the 16 inputs",
        ),
        (
            lambda: Prioritizer(make_selector("loss", keep=4), model()),
            "float indices",
            "indices must be a 1-D integer tensor",
        ),
        (lambda: Prioritizer("sb", model()), None, "selector must be a lossprio Selector"),
        (lambda: Prioritizer(make_selector("sb"), "model"), None, "model must be a torch.nn.Module"),
        (lambda: Prioritizer(make_selector("sb"), model(), batch_size=0), None, "batch_size=0"),
        (
            lambda: Prioritizer(make_selector("rho", keep=4), model(), irreducible_losses=torch.zeros(8)),
            "past table",
            "irreducible_losses covers",
        ),
    ],
)
def test_what_the_loop_cannot_handle_is_refused_by_name(build, call, message):
    inputs, targets = data()
    x, y, i = inputs[:16], targets[:16], torch.arange(16)
    calls = {
        "step": lambda p: p.step(x, y, i, torch.optim.SGD(p.model.parameters(), lr=0.1)),
        "no indices": lambda p: p.choose(x, y, None),
        "bad targets": lambda p: p.choose(x, y + 5, i),
        "short targets": lambda p: p.choose(x, y[:8], i),
        "float indices": lambda p: p.choose(x, y, i.float()),
        "past table": lambda p: p.choose(x, y, i),
    }
    with pytest.raises(ValueError, match=message):
        made = build()
        calls[call](made)
