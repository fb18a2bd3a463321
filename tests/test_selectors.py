"""Selection statistics and planted-score tests for every selector."""

import pytest
import torch

from lossprio import selectors
from lossprio.selectors.sampling import variance_reduction_tau
from lossprio.selectors.sb import select_probability


def logits_with_losses(losses: torch.Tensor, classes: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits whose cross-entropy with target 0 is exactly ``losses`` (binary trick on 2 live classes)."""
    # p(target) = exp(-loss): put logit 0 on the target and log((1-p)/p) on one other class
    p = torch.exp(-losses)
    logits = torch.full((losses.numel(), classes), -1e4)
    logits[:, 0] = 0.0
    logits[:, 1] = torch.log((1 - p).clamp_min(1e-12) / p)
    return logits, torch.zeros(losses.numel(), dtype=torch.int64)


def selected_share(selector, batches: int = 120, size: int = 128, seed: int = 0) -> float:
    generator = torch.Generator().manual_seed(seed)
    chosen = 0
    for _ in range(batches):
        logits = torch.randn(size, 10, generator=generator) * 3
        targets = torch.randint(0, 10, (size,), generator=generator)
        chosen += selector.select(torch.arange(size), logits, targets).chosen.numel()
    return chosen / (batches * size)


@pytest.mark.parametrize("beta,share", [(0.0, 1.0), (1.0, 0.5), (2.0, 1 / 3), (3.0, 0.25)])
def test_sb_selectivity_is_one_over_beta_plus_one(beta, share):
    sb = selectors.build("sb", beta=beta, warmup_epochs=0)
    assert selected_share(sb) == pytest.approx(share, abs=0.02)


def test_sb_percentile_counts_history_strictly_below():
    history = torch.tensor([1.0, 2.0, 3.0, 4.0])
    p = select_probability(torch.tensor([0.5, 3.0, 4.0, 9.0]), history, beta=1.0)
    assert p.tolist() == [0.0, 0.5, 0.75, 1.0]
    assert select_probability(torch.tensor([3.0]), history, beta=2.0).item() == 0.25


@pytest.mark.parametrize("beta", [0.5, 1.0, 2.0, 3.0])
def test_sb_cpu_fast_path_decides_exactly_as_the_tensor_path(beta):
    from lossprio.selectors.sb import draw, draw_torch

    generator = torch.Generator().manual_seed(int(beta * 10))
    history = torch.rand(1024, generator=generator) * 4
    scores = torch.cat([torch.rand(500, generator=generator) * 5, history[:20]])  # ties with the history too
    flips = torch.rand(scores.numel(), generator=generator)
    fast = draw(scores, history, beta, flips)
    assert fast.dtype == torch.int64 and torch.equal(fast, draw_torch(scores, history, beta, flips).nonzero().flatten())
    by_probability = (flips < select_probability(scores, history, beta)).nonzero().flatten()
    assert len(set(fast.tolist()) ^ set(by_probability.tolist())) <= 1  # float rounding at the edge at most


def test_sb_probability_rises_with_loss_and_high_losses_are_chosen():
    sb = selectors.build("sb", beta=1.0, warmup_epochs=0, seed=1)
    losses = torch.cat([torch.full((64,), 0.05), torch.full((64,), 3.0)])
    high = low = 0
    for _ in range(50):
        order = torch.randperm(128)
        logits, targets = logits_with_losses(losses[order])
        chosen = order[sb.select(torch.arange(128), logits, targets).chosen]
        high += int((chosen >= 64).sum())
        low += int((chosen < 64).sum())
    assert high > 5 * low  # high-loss examples sit above ~half the history, low ones above none
    grid = torch.linspace(0, 5, 50)
    p = select_probability(grid, torch.rand(1024) * 5, beta=2.0)
    assert bool((p[1:] >= p[:-1]).all())


def test_sb_batch_enters_history_before_ranking_so_p_stays_below_one():
    sb = selectors.build("sb", beta=1.0, history=128, warmup_epochs=0)
    logits, targets = logits_with_losses(torch.linspace(0.1, 5, 128))
    for _ in range(3):
        selection = sb.select(torch.arange(128), logits, targets)
    assert torch.allclose(sb.history.push(torch.empty(0)).sort().values, selection.scores.sort().values)


def test_sb_warmup_trains_everything_without_a_forward():
    sb = selectors.build("sb", beta=2.0, warmup_epochs=1)
    sb.start_epoch(0)
    assert not sb.needs_forward()
    assert sb.select(torch.arange(50), None, torch.zeros(50, dtype=torch.int64)).chosen.tolist() == list(range(50))
    sb.start_epoch(1)
    assert sb.needs_forward()


@pytest.mark.parametrize(
    "staleness,pattern", [(2, [False, False, True, False, True, False]), (3, [False, False, False, True, False, False])]
)
def test_stale_sb_forwards_when_epoch_mod_n_is_zero_as_the_reference(staleness, pattern):
    stale = selectors.build("stale_sb", num_examples=100, staleness=staleness, warmup_epochs=1)
    seen = []
    for epoch in range(6):
        stale.start_epoch(epoch)
        seen.append(stale.needs_forward())
    assert seen == pattern  # epoch 0 is fresh too: its training forwards store every loss


def test_stale_sb_reuses_each_examples_own_loss_and_training_forwards_refresh_it():
    stale = selectors.build("stale_sb", num_examples=100, staleness=2, warmup_epochs=1)
    indices = torch.tensor([7, 3, 42])
    logits, targets = logits_with_losses(torch.tensor([0.5, 2.0, 1.0]))
    stale.start_epoch(0)
    stale.observe(indices, logits, targets)  # warm-up epoch: the training forward stores the losses
    stale.start_epoch(1)
    stale_pick = stale.select(indices.flip(0), None, targets)
    assert torch.allclose(stale_pick.scores, torch.tensor([1.0, 2.0, 0.5]), atol=1e-4)
    newer, _ = logits_with_losses(torch.tensor([0.1, 0.2, 0.3]))
    stale.observe(indices[:2], newer[:2], targets[:2])  # examples 7 and 3 trained on: refreshed
    assert torch.allclose(stale.select(indices, None, targets).scores, torch.tensor([0.1, 0.2, 1.0]), atol=1e-4)


def test_sbe_ranks_by_entropy_not_loss():
    sbe = selectors.build("sbe", beta=1.0, warmup_epochs=0)
    confident_wrong = torch.full((64, 10), -10.0)
    confident_wrong[:, 3] = 10.0  # high loss for target 0, near-zero entropy
    uncertain = torch.zeros(64, 10)  # loss log(10), maximal entropy
    logits, targets = torch.cat([confident_wrong, uncertain]), torch.zeros(128, dtype=torch.int64)
    chosen = torch.cat([sbe.select(torch.arange(128), logits, targets).chosen for _ in range(20)])
    assert int((chosen >= 64).sum()) > 10 * int((chosen < 64).sum())


def test_sb_on_reducible_loss_keeps_sbs_selectivity_and_skips_high_irreducible_loss():
    generator = torch.Generator().manual_seed(0)
    sb_rho, sb = selectors.build("sb_rho", beta=1.0, warmup_epochs=0), selectors.build("sb", beta=1.0, warmup_epochs=0)
    noisy_chosen = {"sb": 0, "sb_rho": 0}
    total = 0
    for _ in range(100):
        losses = torch.rand(128, generator=generator) * 2
        noisy = torch.arange(128) < 32
        losses[noisy] += 3.0  # noisy points: high loss, and nearly all of it irreducible
        irreducible = torch.where(noisy, losses - 0.1, torch.rand(128, generator=generator) * 0.1)
        logits, targets = logits_with_losses(losses)
        for name, selector in (("sb", sb), ("sb_rho", sb_rho)):
            chosen = selector.select(torch.arange(128), logits, targets, {"irreducible_loss": irreducible}).chosen
            noisy_chosen[name] += int(noisy[chosen].sum())
            total += chosen.numel() if name == "sb_rho" else 0
    assert total / (100 * 128) == pytest.approx(0.5, abs=0.03)  # CDF^β: still ≈ 1/(β + 1)
    assert noisy_chosen["sb"] > 0.8 * 100 * 32  # SB takes the high-loss noisy points (CDF ≥ 3/4) ...
    assert noisy_chosen["sb_rho"] < 0.1 * 100 * 32  # ... their reducible loss is the lowest of the batch
    with pytest.raises(ValueError, match=r"needs extras \['irreducible_loss'\]"):
        sb_rho.select(torch.arange(8), torch.randn(8, 10), torch.zeros(8, dtype=torch.int64))


def test_top_loss_and_rho_and_irreducible_pick_exactly_the_planted_top_k():
    losses = torch.tensor([0.1, 2.0, 1.5, 0.3, 3.0, 0.2, 1.0, 2.5])
    irreducible = torch.tensor([0.0, 1.9, 0.1, 0.0, 2.9, 0.0, 0.1, 0.2])  # reducible: .1 .1 1.4 .3 .1 .2 .9 2.3
    logits, targets = logits_with_losses(losses)
    extras = {"irreducible_loss": irreducible}
    pick = lambda name: sorted(
        selectors.build(name, keep=3).select(torch.arange(8), logits, targets, extras).chosen.tolist()
    )
    assert pick("loss") == [1, 4, 7]
    assert pick("rho") == [2, 6, 7]
    assert pick("irreducible") == [0, 3, 5]
    assert not selectors.build("irreducible", keep=3).needs_forward()


def test_grad_norm_ranks_by_residual_norm_or_scaled_by_feature_norm():
    logits = torch.tensor([[5.0, 0.0], [0.0, 0.0], [0.0, 5.0]])
    targets = torch.zeros(3, dtype=torch.int64)
    features = {"feature_norm": torch.tensor([1.0, 100.0, 1.0])}
    assert selectors.build("grad_norm", keep=1).select(torch.arange(3), logits, targets, features).chosen.tolist() == [
        2
    ]
    assert selectors.build("grad_norm", keep=1, norm="last_layer").select(
        torch.arange(3), logits, targets, features
    ).chosen.tolist() == [1]


@pytest.mark.parametrize("name", ["grad_norm_is", "kath18"])
def test_importance_sampling_follows_scores_and_weights_average_to_one(name):
    settings = {"keep": 20, "reweight": True} | ({"tau_switch": False} if name == "kath18" else {})
    selector = selectors.build(name, **settings)
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(40, 10, generator=generator) * 2
    targets = torch.randint(0, 10, (40,), generator=generator)
    counts, weights = torch.zeros(40), []
    for _ in range(2000):
        selection = selector.select(torch.arange(40), logits, targets)
        counts += torch.bincount(selection.chosen, minlength=40)
        weights.append(selection.weights)
    expected = selection.scores / selection.scores.sum()
    assert torch.allclose(counts / counts.sum(), expected, atol=0.006)
    assert torch.cat(weights).mean().item() == pytest.approx(1.0, abs=0.03)


def test_kath18_tau_switch_turns_sampling_on_when_scores_are_uneven():
    assert variance_reduction_tau(torch.ones(64)).item() == pytest.approx(1.0)
    assert variance_reduction_tau(torch.tensor([10.0] + [0.01] * 63)).item() > 5
    kath = selectors.build("kath18", keep=32)  # pool 128: threshold (128 + 96) / 96 ≈ 2.33
    assert not kath.needs_forward()
    assert kath.select(torch.arange(128), None, torch.zeros(128, dtype=torch.int64)).chosen.numel() == 128
    even_logits = torch.zeros(32, 10)
    kath.observe(torch.arange(32), even_logits, torch.zeros(32, dtype=torch.int64))
    assert not kath.needs_forward()
    peaked = torch.zeros(32, 10)
    peaked[:, 0] = 20.0  # near-zero loss for target 0 ...
    peaked[0] = torch.tensor([-20.0] + [0.0] * 9)  # ... except one example
    for _ in range(40):
        kath.observe(torch.arange(32), peaked, torch.zeros(32, dtype=torch.int64))
    assert kath.needs_forward()
    logits, targets = logits_with_losses(torch.rand(128))
    assert kath.select(torch.arange(128), logits, targets).chosen.numel() == 32


def test_kath18_tau_average_starts_at_zero_as_the_reference():
    kath = selectors.build("kath18", keep=32, tau_threshold=2.0)
    peaked = torch.zeros(32, 10)
    peaked[:, 0] = 20.0
    peaked[0] = torch.tensor([-20.0] + [0.0] * 9)  # τ of one batch is far above 2
    targets = torch.zeros(32, dtype=torch.int64)
    kath.observe(torch.arange(32), peaked, targets)
    tau = variance_reduction_tau(selectors.loss_score(peaked, targets))
    assert torch.allclose(kath.tau, 0.1 * tau) and not kath.needs_forward()  # one high-τ batch is not enough


def test_uniform_and_svp():
    uniform = selectors.build("uniform", keep=10)
    chosen = uniform.select(torch.arange(50), None, torch.zeros(50, dtype=torch.int64)).chosen
    assert chosen.unique().numel() == 10 and not uniform.needs_forward()
    entropy = torch.tensor([0.1, 0.9, 0.5, 0.8, 0.2, 0.7])
    svp = selectors.build("svp", proxy_entropy=entropy, fraction=0.5)
    assert svp.restrict(6).tolist() == [1, 3, 5]


def test_bad_selector_parameters_are_named():
    with pytest.raises(ValueError, match=r"beta=-1.0 is outside the allowed range \[0, inf\]"):
        selectors.build("sb", beta=-1.0)
    with pytest.raises(ValueError, match=r"selectivity=1.5 is outside the allowed range \(0, 1\]"):
        selectors.build("loss", selectivity=1.5)
    with pytest.raises(ValueError, match=r"selectivity=0.0 is outside the allowed range \(0, 1\]"):
        selectors.build("rho", selectivity=0.0)
    with pytest.raises(ValueError, match="keep=40 exceeds the candidate batch of 32: n_b must be <= n_B"):
        selectors.build("loss", keep=40).select(
            torch.arange(32), torch.randn(32, 10), torch.zeros(32, dtype=torch.int64)
        )
    with pytest.raises(ValueError, match=r"needs extras \['irreducible_loss'\]"):
        selectors.build("rho", keep=4).select(torch.arange(32), torch.randn(32, 10), torch.zeros(32, dtype=torch.int64))
    with pytest.raises(ValueError, match="unknown selector 'greedy'; allowed: grad_norm, grad_norm_is, infobatch, irr"):
        selectors.build("greedy")
    with pytest.raises(ValueError, match="score='margin'"):
        selectors.build("sb", score="margin")


def test_selector_state_round_trips_for_resume():
    sb = selectors.build("sb", beta=1.0, warmup_epochs=0, seed=3)
    logits, targets = torch.randn(64, 10), torch.randint(0, 10, (64,))
    sb.select(torch.arange(64), logits, targets)
    clone = selectors.build("sb", beta=1.0, warmup_epochs=0, seed=3)
    clone.load_state_dict(sb.state_dict())
    assert torch.equal(
        sb.select(torch.arange(64), logits, targets).chosen, clone.select(torch.arange(64), logits, targets).chosen
    )


@pytest.mark.parametrize("name", ["grad_norm", "grad_norm_is"])
def test_gradient_norm_scores_are_the_logit_gradient_norm_unless_last_layer_is_asked(name):
    logits = torch.tensor([[5.0, 0.0], [0.0, 0.0], [0.0, 5.0]])
    targets = torch.zeros(3, dtype=torch.int64)
    features = {"feature_norm": torch.tensor([1.0, 100.0, 1.0])}
    residual = (torch.softmax(logits, 1) - torch.nn.functional.one_hot(targets, 2)).norm(dim=1)
    reference, exact = selectors.build(name, keep=1), selectors.build(name, keep=1, norm="last_layer")
    assert reference.wants == () and exact.wants == ("feature_norm",)  # the loop hooks the head only for the exact norm
    torch.testing.assert_close(reference.select(torch.arange(3), logits, targets, features).scores, residual)
    torch.testing.assert_close(
        exact.select(torch.arange(3), logits, targets, features).scores,
        residual * (features["feature_norm"].square() + 1).sqrt(),
    )
    with pytest.raises(ValueError, match=r"norm='last_layer' needs extras\['feature_norm'\]"):
        exact.select(torch.arange(3), logits, targets)
    with pytest.raises(ValueError, match="norm=.exact. is not allowed"):
        selectors.build(name, keep=1, norm="exact")


def peaked_pool(pool: int = 128) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits whose losses are near zero but for one example in each 32: uneven scores, high τ."""
    logits = torch.zeros(pool, 10)
    logits[:, 0] = 20.0
    logits[::32] = torch.tensor([-20.0] + [0.0] * 9)
    return logits, torch.zeros(pool, dtype=torch.int64)


def run_pools(kath, epochs: int, pools: int = 20, pool: int = 128) -> list[list[bool]]:
    """Which pools of each epoch were importance-sampled, the training batches fed back as the loop does."""
    logits, targets = peaked_pool(pool)
    sampled = []
    for epoch in range(epochs):
        kath.start_epoch(epoch)
        row = []
        for _ in range(pools):
            row.append(kath.needs_forward())
            selection = kath.select(torch.arange(pool), logits if row[-1] else None, targets)
            chosen = selection.chosen
            for start in range(0, chosen.numel(), 32):  # the queue's training batches of b = 32
                part = chosen[start : start + 32]
                kath.observe(part, logits[part], targets[part])
        sampled.append(row)
    return sampled


def test_kath18_as_paper_j_ran_it_decides_once_per_epoch_and_never_samples_in_the_first():
    epoch_switch = run_pools(selectors.build("kath18", keep=32, switch="epoch", unique=True), epochs=3)
    assert not any(epoch_switch[0]) and all(epoch_switch[1]) and all(epoch_switch[2])
    batch_switch = run_pools(selectors.build("kath18", keep=32), epochs=1)  # idiap's: on within the first epoch
    assert sum(batch_switch[0]) >= 10


def test_kath18_unique_trains_each_drawn_example_once_and_counts_it_once():
    scores = torch.zeros(512)
    scores[:8] = 10.0  # eight examples hold nearly all the probability mass
    logits, targets = logits_with_losses(scores)
    kath = selectors.build("kath18", keep=128, tau_switch=False, unique=True, seed=1)
    selection = kath.select(torch.arange(512), logits, targets)
    assert selection.chosen.tolist() == sorted(set(selection.chosen.tolist())) and selection.chosen.numel() < 128
    assert selection.weights.shape == selection.chosen.shape and (selection.weights == 1).all()
    with_duplicates = selectors.build("kath18", keep=128, tau_switch=False, seed=1).select(
        torch.arange(512), logits, targets
    )
    assert with_duplicates.chosen.numel() == 128
    assert set(with_duplicates.chosen.tolist()) == set(selection.chosen.tolist())  # the same draws, collapsed


def test_kath18_reports_the_share_of_pools_it_sampled():
    kath = selectors.build("kath18", keep=32, switch="epoch")
    run_pools(kath, epochs=2)
    assert kath.stats() == {"sampling_share": 0.5, "pools": 40}
    assert selectors.build("sb").stats() == {}
    with pytest.raises(ValueError, match=r"switch='pool' is not allowed; choose one of \['epoch', 'batch'\]"):
        selectors.build("kath18", keep=32, switch="pool")


def test_kath18_updates_tau_once_when_a_sampled_pool_switches_sampling_off():
    kath = selectors.build("kath18", keep=32, tau_threshold=1.5)  # idiap's per-pool switch
    kath.sampling = True
    kath.tau = torch.tensor(1.55)  # just above the threshold: one even pool brings it below
    logits, targets = torch.zeros(128, 10), torch.zeros(128, dtype=torch.int64)  # even losses: τ of the pool is 1
    selection = kath.select(torch.arange(128), logits, targets)
    after_pool = kath.tau.clone()
    assert after_pool == pytest.approx(0.9 * 1.55 + 0.1 * 1.0) and not kath.needs_forward()
    chosen = selection.chosen
    kath.observe(chosen, logits[chosen], targets[chosen])  # the pool's training batch: no second update
    assert torch.equal(kath.tau, after_pool)
    kath.select(torch.arange(128), None, targets)  # a uniform pool: its training batches update τ again
    kath.observe(torch.arange(32), logits[:32], targets[:32])
    assert kath.tau == pytest.approx(0.9 * after_pool + 0.1 * 1.0)
