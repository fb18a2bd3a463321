"""One selection core: the book's trainer and a user's loop (``Prioritizer``) make the same
choices, with the same weights and forwards, and end with the same model; the user-kept step
takes autocast, loss scaling, clipping and accumulation."""

import copy

import pytest
import torch
from torch import nn
from tqdm.auto import tqdm

from lossprio import Prioritizer, make_selector
from lossprio.assemble import assemble, resolve_device
from lossprio.batches import derive_seed
from lossprio.records import RunRecord
from lossprio.scores import grad_norm_score
from lossprio.train import Trainer

from .test_train import SETTINGS, small_config

CASES = {
    **{name: {} for name in SETTINGS},
    "grad_norm_is one forward": {"selector": "grad_norm_is", "selector_kwargs": {"keep": 16, "one_forward": True}},
    "grad_norm last layer": {"selector": "grad_norm", "selector_kwargs": {"keep": 16, "norm": "last_layer"}},
    "kath18 per pool": {
        "selector": "kath18",
        "selector_kwargs": {"keep": 16, "tau_switch": False, "per_pool_steps": True},
    },
}


def spy_on_decisions(selector) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Record every decision's chosen dataset indices and weights."""
    seen, decide = [], selector.decide

    def recorded(indices, logits, targets, extras=None):
        selection = decide(indices, logits, targets, extras)
        seen.append((indices[selection.chosen].clone(), selection.weights.clone()))
        return selection

    selector.decide = recorded
    return seen


def build_trainer(config, tmp_path) -> Trainer:
    device = resolve_device("cpu")
    setup = assemble(config, device, tmp_path / "cache", False)
    return Trainer(config, setup, device, RunRecord(config.run_id, config.to_dict(), "c", {}))


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_trainer_and_a_users_loop_choose_weight_and_train_alike(case, tmp_path):
    changes = CASES[case]
    name = changes.get("selector", case)
    config = small_config(name, epochs=2, **{k: v for k, v in changes.items() if k != "selector"})

    book = build_trainer(config, tmp_path)
    book_decisions = spy_on_decisions(book.setup.selector)
    for _ in range(config.epochs):
        book.run_epoch(tqdm(disable=True))

    mine = build_trainer(config, tmp_path)  # the same model, optimiser, selector and candidate batches, untouched
    setup = mine.setup
    my_decisions = spy_on_decisions(setup.selector)
    loop = Prioritizer(
        setup.selector,
        setup.model,
        batch_size=config.batch_size,
        irreducible_losses=setup.extras.get("irreducible_loss"),
        selection_eval_mode=config.selection_eval_mode,
    )
    for epoch in range(config.epochs):
        setup.selector.start_epoch(epoch)
        torch.manual_seed(derive_seed(config.seed, epoch, 2))
        pool = loop.epoch_indices()
        for batch in mine.candidate_batches.epoch(epoch, setup.among if pool is None else pool):
            loop.step(batch.inputs, batch.labels, batch.indices, setup.optimizer)
        loop.finish_epoch(setup.optimizer)

    assert len(my_decisions) == len(book_decisions) > 0
    for (chosen, weights), (book_chosen, book_weights) in zip(my_decisions, book_decisions):
        assert torch.equal(chosen, book_chosen) and torch.equal(weights, book_weights)
    counters = book.counters
    assert (loop.selection_forwards, loop.training_forwards) == (
        counters.selection_forwards,
        counters.training_forwards,
    )
    assert loop.examples_trained == counters.backprops
    for mine_p, book_p in zip(setup.model.parameters(), book.setup.model.parameters()):
        assert torch.equal(mine_p, book_p)


def net(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))


def data(n: int = 64) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    inputs = torch.randn(n, 6, generator=generator)
    return inputs, (inputs[:, 0] > 0).long() + (inputs[:, 1] > 1).long(), torch.arange(n)


def test_one_forward_gradient_norm_is_runs_one_forward_per_candidate_batch_in_a_users_loop():
    inputs, targets, indices = data()
    model = net()
    calls = []
    model.register_forward_pre_hook(lambda module, args: calls.append(args[0].shape[0]))
    loop = Prioritizer(make_selector("grad_norm_is", keep=4, one_forward=True), model, batch_size=4)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for start in range(0, 64, 16):
        part = slice(start, start + 16)
        loop.step(inputs[part], targets[part], indices[part], optimizer)
    assert calls == [16, 16, 16, 16]  # the candidates' forward only: the 4 chosen train through it
    assert loop.training_forwards == 64 and loop.selection_forwards == 0 and loop.examples_trained == 16


def test_last_layer_gradient_norms_work_in_a_users_loop():
    inputs, targets, indices = data()
    model = net()
    loop = Prioritizer(make_selector("grad_norm", keep=4, norm="last_layer"), model, batch_size=4)
    with torch.no_grad():  # paper M scores in train mode: BatchNorm on the candidates' statistics
        features = model[:-1].train()(inputs[:16])
        expected = grad_norm_score(model[-1](features), targets[:16], features.norm(dim=1))
    selection = loop.choose(inputs[:16], targets[:16], indices[:16])
    assert torch.allclose(selection.scores, expected, atol=1e-5)
    assert not torch.allclose(selection.scores, grad_norm_score(model[-1](features), targets[:16]))


def test_a_users_step_with_scaling_clipping_and_accumulation_trains_what_step_trains():
    """The user keeps the step: loss scaling (a constant, as GradScaler without overflow),
    gradient clipping and accumulation over two batches, on the batches the core hands out."""
    inputs, targets, indices = data(128)
    reference, users = net(), net()
    plain = Prioritizer(make_selector("sb", beta=1.0, warmup_epochs=0, seed=1), reference, batch_size=8)
    kept = Prioritizer(make_selector("sb", beta=1.0, warmup_epochs=0, seed=1), users, batch_size=8)
    plain_optimizer = torch.optim.SGD(reference.parameters(), lr=0.1)
    optimizer = torch.optim.SGD(users.parameters(), lr=0.1)
    scale, waiting = 1024.0, 0
    for start in range(0, 128, 16):
        part = slice(start, start + 16)
        for batch in plain.batches(inputs[part], targets[part], indices[part]):
            loss = plain.loss(batch)
            plain_optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(reference.parameters(), 1.0)
            plain_optimizer.step()
        for batch in kept.batches(inputs[part], targets[part], indices[part]):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=False):  # where a GPU user autocasts
                loss = kept.loss(batch)
            (loss * scale).backward()
            for parameter in users.parameters():
                parameter.grad /= scale  # unscale, as GradScaler.unscale_ before clipping
            torch.nn.utils.clip_grad_norm_(users.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad()
            waiting += 1
    assert waiting > 3 and kept.examples_trained == plain.examples_trained
    for a, b in zip(reference.parameters(), users.parameters()):
        assert torch.allclose(a, b, atol=1e-6)

    # accumulation: two batches of 8, each loss halved, give one batch of 16's gradient (no BatchNorm here)
    grads = {}
    for batch_size in (8, 16):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
        loop = Prioritizer(make_selector("uniform"), model, batch_size=batch_size)
        for start in range(0, 16, 8):
            for batch in loop.batches(
                inputs[start : start + 8], targets[start : start + 8], indices[start : start + 8]
            ):
                (loop.loss(batch) * len(batch) / 16).backward()
        grads[batch_size] = [p.grad.clone() for p in model.parameters()]
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(grads[8], grads[16]))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: make_selector("rho"), None),
        (lambda: make_selector("kath18"), None),
        (lambda: make_selector("sb", bta=2.0), "has no setting(s) ['bta']; allowed: ['beta'"),
        (lambda: make_selector("stale_sb"), "needs num_examples=… (num_examples: the training set's size"),
        (lambda: make_selector("infobatch", num_examples=10), "needs epochs=…"),
        (lambda: make_selector("sbb"), "name='sbb'"),
        (lambda: Prioritizer(make_selector("sb"), net(), loss_fn=nn.CrossEntropyLoss), "is a class: give an instance"),
        (lambda: Prioritizer(make_selector("sb"), net(), loss_fn=nn.CrossEntropyLoss()), 'reduction="mean"'),
        (
            lambda: Prioritizer(make_selector("sb"), net()).step(
                *data()[:2], torch.optim.SGD(net().parameters(), lr=0.1)
            ),
            "the third argument is the optimizer",
        ),
        (lambda: Prioritizer(make_selector("sb"), net()).step(*data(), "sgd"), "optimizer must be a torch.optim"),
    ],
)
def test_paper_defaults_and_named_mistakes(call, message):
    if message is None:
        assert call() is not None
        return
    with pytest.raises(ValueError) as error:
        call()
    assert message in str(error.value)


def test_paper_defaults_are_the_papers_settings():
    rho, kath = make_selector("rho"), make_selector("kath18")
    assert rho.selectivity == pytest.approx(0.1)  # paper M: n_b = 32 of n_B = 320
    assert kath.selectivity == pytest.approx(1 / 3) and kath.unique and not kath.reweight
    assert make_selector("rho", keep=8).keep == 8  # a count replaces the paper's share
    assert copy.deepcopy(make_selector("sb")).beta == 1.0
