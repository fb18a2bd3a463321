import pytest
import torch

from lossprio import irreducible
from lossprio.batches import Augment
from lossprio.data import channel_stats, halves, load


@pytest.fixture(scope="module")
def digits():
    train = load("digits", "train")
    mean, std = channel_stats(train)
    return train, Augment(mean=mean, std=std)


def test_holdout_losses_are_cached_by_config_and_data(digits, tmp_path, monkeypatch):
    train, augment = digits
    target, holdout = halves(train)
    config = irreducible.ILConfig(model="mlp", epochs=3)
    losses = irreducible.irreducible_losses(
        target, holdout, config, augment, torch.device("cpu"), tmp_path, progress=False
    )
    assert losses.shape == (len(target),) and torch.isfinite(losses).all() and (losses >= 0).all()
    assert losses.mean() < 1.0  # the IL model learned the digits from the other half
    fit_model = irreducible.fit_model
    monkeypatch.setattr(irreducible, "fit_model", lambda *a, **k: pytest.fail("a cached IL model was trained again"))
    cached = irreducible.irreducible_losses(
        target, holdout, config, augment, torch.device("cpu"), tmp_path, progress=False
    )
    monkeypatch.setattr(irreducible, "fit_model", fit_model)
    assert torch.equal(cached, losses)
    assert len(list(tmp_path.glob("il-*.pt"))) == 1
    other = irreducible.irreducible_losses(
        target,
        holdout,
        irreducible.ILConfig(model="mlp", epochs=3, holdout_fraction=0.5),
        augment,
        torch.device("cpu"),
        tmp_path,
        progress=False,
    )
    assert not torch.equal(other, losses) and len(list(tmp_path.glob("il-*.pt"))) == 2


def test_no_holdout_scores_each_half_with_the_model_that_did_not_see_it(digits):
    train, augment = digits
    config = irreducible.ILConfig(model="mlp", epochs=3, holdout="no_holdout")
    losses = irreducible.irreducible_losses(train, None, config, augment, torch.device("cpu"), progress=False)
    in_sample = irreducible.ILConfig(model="mlp", epochs=3)
    seen = irreducible.train_and_score(train, train, in_sample, augment, torch.device("cpu"), progress=False)
    assert losses.shape == (len(train),)
    assert losses.mean() > seen.mean()  # out-of-sample losses exceed in-sample ones


def test_entropy_scores_and_bad_settings(digits):
    train, augment = digits
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(28 * 28, 10))
    torch.nn.init.zeros_(model[1].weight), torch.nn.init.zeros_(model[1].bias)
    entropy = irreducible.score(model, train, augment, torch.device("cpu"), kind="entropy")
    assert torch.allclose(entropy, torch.full_like(entropy, torch.log(torch.tensor(10.0)).item()))
    with pytest.raises(ValueError, match="holdout=None"):
        irreducible.irreducible_losses(train, None, irreducible.ILConfig(), augment, torch.device("cpu"))
    with pytest.raises(ValueError, match=r"holdout='half' is not allowed"):
        irreducible.ILConfig(holdout="half")
