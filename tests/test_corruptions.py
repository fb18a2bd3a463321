import pytest
import torch

from lossprio import corruptions
from lossprio.data import make_image_set

from .conftest import synthetic_set

KINDS = corruptions.corruption_names()


def changed(before, after):
    return (before.labels != after.labels) | (before.images != after.images).flatten(1).any(1)


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "structured"])
@pytest.mark.parametrize("fraction", [0.0, 0.25, 0.5, 1.0])
def test_exact_count_and_nothing_outside_the_mask(kind, fraction):
    clean = synthetic_set(n=203, classes=5)
    corrupted, mask = corruptions.apply(clean, kind, fraction, seed=1)
    assert mask.dtype == torch.bool and int(mask.sum()) == round(fraction * 203)
    assert not changed(clean, corrupted)[~mask].any()
    assert corrupted.labels.min() >= 0 and corrupted.labels.max() < 5
    assert corrupted.images.dtype == torch.uint8


@pytest.mark.parametrize("kind", KINDS)
def test_deterministic_by_seed(kind):
    clean = synthetic_set(n=200, classes=10)
    a, mask_a = corruptions.apply(clean, kind, 0.3, seed=5)
    b, mask_b = corruptions.apply(clean, kind, 0.3, seed=5)
    c, mask_c = corruptions.apply(clean, kind, 0.3, seed=6)
    assert torch.equal(mask_a, mask_b) and torch.equal(a.labels, b.labels) and torch.equal(a.images, b.images)
    assert not torch.equal(mask_a, mask_c)


def test_random_labels_keep_one_in_k_and_label_flip_changes_all():
    clean = synthetic_set(n=20_000, channels=1, size=2, classes=10)
    relabelled, mask = corruptions.apply(clean, "random_labels", 0.5, seed=0)
    kept = (relabelled.labels == clean.labels)[mask].float().mean().item()
    assert kept == pytest.approx(0.1, abs=0.015)
    assert torch.bincount(relabelled.labels[mask], minlength=10).min() > 800  # uniform over all classes
    flipped, mask = corruptions.apply(clean, "label_flip", 0.2, seed=0)
    assert bool((flipped.labels != clean.labels)[mask].all())


def test_shuffle_pixels_uses_one_permutation_for_the_whole_task():
    n, h, w = 50, 4, 4
    positions = torch.arange(h * w, dtype=torch.uint8).view(1, 1, h, w)
    images = torch.cat([positions, positions + 100], dim=1).repeat(n, 1, 1, 1)  # 2 channels
    clean = make_image_set(images, torch.zeros(n), ["only"], "positions", "train")
    shuffled, mask = corruptions.apply(clean, "shuffle_pixels", 0.4, seed=0)
    moved = shuffled.images[mask]
    assert torch.equal(moved, moved[:1].expand_as(moved))  # one permutation, the same for every image
    assert not torch.equal(moved[0], images[0])
    assert torch.equal(moved[0, 1], moved[0, 0] + 100)  # channels move together
    assert torch.equal(moved[0, 0].flatten().sort().values, positions.flatten())


def test_gaussian_matches_each_images_own_moments():
    generator = torch.Generator().manual_seed(0)
    means = torch.randint(60, 190, (300, 1, 1, 1), generator=generator).float()
    stds = torch.randint(5, 20, (300, 1, 1, 1), generator=generator).float()
    images = (torch.randn(300, 3, 32, 32, generator=generator) * stds + means).round().clamp(0, 255).to(torch.uint8)
    clean = make_image_set(images, torch.zeros(300), ["only"], "moments", "train")
    noisy, mask = corruptions.apply(clean, "gaussian", 0.5, seed=0)
    before, after = clean.images[mask].float(), noisy.images[mask].float()
    assert torch.allclose(after.mean(dim=(1, 2, 3)), before.mean(dim=(1, 2, 3)), atol=1.5)
    assert torch.allclose(after.std(dim=(1, 2, 3)), before.std(dim=(1, 2, 3)), rtol=0.08)
    assert (after - before).abs().mean() > 3  # the pixels are new, not the old image


def test_structured_relabels_exact_share_of_each_source_class():
    clean = synthetic_set(n=1000, channels=1, size=2, classes=10)
    noisy, mask = corruptions.apply(clean, "structured", 0.5, seed=0)
    for source, target in corruptions.PAPER_M_STRUCTURED_PAIRS:
        members = clean.labels == source
        assert int((mask & members).sum()) == 50
        assert bool((noisy.labels[mask & members] == target).all())
    untouched = ~torch.isin(clean.labels, torch.tensor([3, 9, 4]))
    assert not mask[untouched].any()
    assert not ((clean.labels == 4) & (noisy.labels == 7)).any()  # 4→9 is not chained into 9→7


def test_test_split_and_bad_parameters_are_refused():
    test_split = synthetic_set(split="test")
    with pytest.raises(ValueError, match="never to the test split"):
        corruptions.apply(test_split, "gaussian", 0.25, seed=0)
    with pytest.raises(ValueError, match=r"fraction=-0.1 is outside the allowed range \[0, 1\]"):
        corruptions.apply(synthetic_set(), "gaussian", -0.1, seed=0)
    with pytest.raises(ValueError, match="unknown corruption 'blur'; allowed: ambiguous, gaussian, label_flip"):
        corruptions.apply(synthetic_set(), "blur", 0.1, seed=0)
    with pytest.raises(ValueError, match="target class 12"):
        corruptions.apply(synthetic_set(classes=10), "structured", 0.1, seed=0, pairs=[(1, 12)])


def test_ambiguous_blends_with_another_class_and_takes_either_label():
    clean = synthetic_set(n=4000, channels=1, size=4, classes=10)
    blended, mask = corruptions.apply(clean, "ambiguous", 0.5, seed=0)
    own = blended.labels[mask] == clean.labels[mask]
    assert 0.45 < own.float().mean() < 0.55  # the label is a coin flip between the two classes
    # every blend is the rounded mean of its image and some image of another class
    images, labels = clean.images.flatten(1).to(torch.int16), clean.labels
    for position in mask.nonzero().flatten()[:50].tolist():
        doubled = 2 * blended.images[position].flatten().to(torch.int16) - images[position]
        partners = ((images - doubled).abs() <= 1).all(1).nonzero().flatten()
        assert len(partners) and (labels[partners] != labels[position]).all()
        assert blended.labels[position] in (labels[position], *labels[partners].tolist())


def test_structured_uses_the_datasets_own_pairs():
    clean = make_image_set(
        torch.zeros(1000, 1, 2, 2, dtype=torch.uint8),
        torch.arange(1000) % 10,
        [str(k) for k in range(10)],
        "fashion-mnist",
        "train",
    )
    noisy, mask = corruptions.apply(clean, "structured", 0.5, seed=0)
    assert set(clean.labels[mask].tolist()) == {6, 2, 7}  # shirt, pullover, sneaker
    assert dict(zip(clean.labels[mask].tolist(), noisy.labels[mask].tolist())) == {6: 0, 2: 4, 7: 9}


def test_paper_ms_label_noise_draws_any_class_so_about_one_in_k_keeps_its_label():
    from lossprio.corruptions import apply

    clean = synthetic_set(n=4000, classes=10)
    noisy, mask = apply(clean, "label_noise", 0.5, seed=3)
    assert int(mask.sum()) == 2000  # exactly the requested fraction is drawn
    kept = (noisy.labels[mask] == clean.labels[mask]).float().mean().item()
    assert kept == pytest.approx(1 / 10, abs=0.03)  # so 10 % drawn is about 9 % wrong
    assert torch.equal(noisy.labels[~mask], clean.labels[~mask])
    flipped, flip_mask = apply(clean, "label_flip", 0.5, seed=3)
    assert (flipped.labels[flip_mask] != clean.labels[flip_mask]).all()  # paper J's flips always change the label
