"""RS2 and InfoBatch: the training set each epoch traverses, pinned on small hand-checked cases."""

import copy

import pytest
import torch
from torch import nn

from lossprio import Prioritizer, make_selector
from lossprio.selectors.pruning import InfoBatch, RepeatedRandomSampling


def rounds(selector: RepeatedRandomSampling, count: int) -> list[list[int]]:
    return [selector.epoch_pool(epoch).tolist() for epoch in range(count)]


def test_rs2_rounds_walk_a_permutation_without_repeats_and_redraw_it_when_used_up():
    rs2 = RepeatedRandomSampling(num_examples=100, fraction=0.1, seed=0)
    first_pass, second_pass = rounds(rs2, 10), rounds(rs2, 10)
    assert all(len(r) == 10 for r in first_pass + second_pass)
    assert sorted(sum(first_pass, [])) == list(range(100)) == sorted(sum(second_pass, []))  # each example once a pass
    assert sum(first_pass, []) != sum(second_pass, [])  # a fresh permutation for the second pass


def test_an_rs2_round_across_the_end_of_a_permutation_takes_its_rest_and_the_next_ones_start():
    rs2 = RepeatedRandomSampling(num_examples=10, fraction=0.3, seed=1)
    first, second, third, crossing, fifth, sixth, crossing_again = rounds(rs2, 7)
    assert all(len(r) == 3 for r in (first, second, third, crossing, fifth, sixth, crossing_again))
    assert sorted(first + second + third + crossing[:1]) == list(range(10))  # the old permutation's last one,
    assert sorted(crossing[1:] + fifth + sixth + crossing_again[:2]) == list(range(10))  # then the new one's start


def test_rs2_is_deterministic_by_seed_and_resumes_from_its_state():
    a, b, c = (RepeatedRandomSampling(num_examples=50, fraction=0.2, seed=s) for s in (0, 0, 1))
    assert rounds(a, 7) == rounds(b, 7) and rounds(c, 7) != rounds(RepeatedRandomSampling(50, 0.2, seed=0), 7)
    saved = copy.deepcopy(a.state_dict())
    ahead = rounds(a, 6)
    resumed = RepeatedRandomSampling(num_examples=50, fraction=0.2, seed=9)
    resumed.load_state_dict(saved)
    assert rounds(resumed, 6) == ahead
    with pytest.raises(ValueError, match="fraction=0"):
        RepeatedRandomSampling(num_examples=50, fraction=0.0)


def scored(infobatch: InfoBatch, losses: torch.Tensor) -> InfoBatch:
    """``infobatch`` after a training forward whose per-example losses are ``losses`` (logits of
    two classes, target 0, so that the cross-entropy is the given loss)."""
    probability = torch.exp(-losses)
    logits = torch.stack([torch.log(probability), torch.log1p(-probability + 1e-12)], dim=1)
    infobatch.observe(torch.arange(losses.numel()), logits, torch.zeros(losses.numel(), dtype=torch.long))
    return infobatch


def test_infobatch_traverses_everything_until_it_has_seen_losses():
    infobatch = InfoBatch(num_examples=10, epochs=8, seed=0)
    assert infobatch.epoch_pool(0) is None
    assert infobatch.weights_of(torch.arange(10)).tolist() == [1.0] * 10


def test_infobatch_prunes_a_random_share_of_the_below_mean_examples_and_upweights_the_rest_of_them():
    infobatch = scored(InfoBatch(num_examples=10, epochs=8, prune_ratio=0.5, seed=0), torch.arange(10.0) + 0.5)
    pool = infobatch.epoch_pool(1)  # mean 5: examples 0-4 are well learned; int(0.5 × 5) = 2 of them kept
    well_learned_kept = [i for i in pool.tolist() if i < 5]
    assert len(well_learned_kept) == 2 and [i for i in pool.tolist() if i >= 5] == [5, 6, 7, 8, 9]
    weights = infobatch.weights_of(torch.arange(10))
    assert weights[well_learned_kept].tolist() == [2.0, 2.0]  # 1 / keep
    assert weights[5:].tolist() == [1.0] * 5
    assert infobatch.stats() == {"pruned_examples": 3.0}


def test_infobatch_prunes_at_the_rate_it_is_given_and_keeps_at_least_a_tenth():
    losses = torch.rand(10_000, generator=torch.Generator().manual_seed(0))
    for prune_ratio, keep in ((0.3, 0.7), (0.5, 0.5), (0.95, 0.1)):
        infobatch = scored(InfoBatch(num_examples=10_000, epochs=8, prune_ratio=prune_ratio, seed=1), losses)
        well_learned = int((losses < losses.mean()).sum())
        pool = infobatch.epoch_pool(1)
        assert pool.numel() == 10_000 - well_learned + int(keep * well_learned)
        assert infobatch.weights_of(pool).max().item() == pytest.approx(1 / keep)


def test_infobatch_keeps_old_scores_for_pruned_examples_and_trains_on_everything_from_delta_on():
    infobatch = scored(InfoBatch(num_examples=10, epochs=8, delta=0.875, seed=0), torch.arange(10.0) + 0.5)
    infobatch.epoch_pool(1)
    seen = torch.tensor([7, 8])
    logits = torch.zeros(2, 2)  # loss ln 2 for both
    infobatch.observe(seen, logits, torch.zeros(2, dtype=torch.long))
    expected = torch.arange(10.0) + 0.5
    expected[seen] = torch.log(torch.tensor(2.0))
    assert torch.allclose(infobatch.scores, expected, atol=1e-5)
    assert [infobatch.prunes_in(e) for e in range(8)] == [True] * 7 + [False]  # e + 1 <= 0.875 × 8
    assert infobatch.epoch_pool(7) is None and infobatch.weights_of(torch.arange(10)).tolist() == [1.0] * 10
    ten = InfoBatch(num_examples=10, epochs=10, delta=0.875)  # 8.75: epochs 0-7 prune, the whole set from 8
    assert [ten.prunes_in(e) for e in range(10)] == [True] * 8 + [False] * 2


def test_infobatch_at_a_fixed_budget_prunes_until_delta_of_the_budget_was_handed_to_training():
    # 10 examples, a budget of 30: epoch 0 hands over all 10, a pruned epoch 7 (the 5 at or above
    # the mean and int(0.5 × 5) of the 5 below it); 0.875 × 30 = 26.25 is passed after epoch 3
    infobatch = scored(
        InfoBatch(num_examples=10, epochs=100, anneal="budget", budget_examples=30, seed=0), torch.arange(10.0) + 0.5
    )
    infobatch.handed = 10  # as after epoch 0, which traversed the whole set
    sizes = []
    for epoch in range(1, 6):
        pool = infobatch.epoch_pool(epoch)
        sizes.append(10 if pool is None else pool.numel())
    assert sizes == [7, 7, 7, 10, 10]  # 10 + 7 + 7 = 24 < 26.25 prunes once more; 31 ≥ 26.25: the whole set
    assert infobatch.handed == 10 + sum(sizes)
    with pytest.raises(ValueError, match="anneal='budget'"):
        InfoBatch(num_examples=10, epochs=4, anneal="budget")
    with pytest.raises(ValueError, match="anneal"):
        InfoBatch(num_examples=10, epochs=4, anneal="steps")


def test_a_users_loop_traverses_the_epochs_indices_and_trains_with_their_weights():
    torch.manual_seed(0)
    inputs, targets = torch.randn(64, 4), torch.randint(0, 3, (64,))
    model = nn.Linear(4, 3)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loop = Prioritizer(make_selector("infobatch", num_examples=64, epochs=3, seed=0), model, batch_size=16)
    traversed = []
    for _ in range(3):
        pool = loop.epoch_indices()
        order = torch.arange(64) if pool is None else pool
        traversed.append(order.numel())
        for start in range(0, order.numel(), 16):
            part = order[start : start + 16]
            loop.step(inputs[part], targets[part], part, optimizer)
        loop.finish_epoch(optimizer)
    assert traversed[0] == 64 and traversed[1] < 64 and traversed[2] == 64  # 0.875 × 3: the last epoch trains on all
