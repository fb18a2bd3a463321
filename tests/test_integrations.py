"""PyTorch Lightning and Hugging Face: SB and RHO-LOSS train for a few steps on Fashion-MNIST
through each framework's own trainer, choosing as the selection core says."""

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from lossprio import IndexedDataset, fit_irreducible_model, make_selector, per_example_losses
from lossprio.data import channel_stats, class_balanced_fraction, halves, load

pl = pytest.importorskip("lightning.pytorch", reason="the lightning extra")
transformers = pytest.importorskip("transformers", reason="the huggingface extra")

from lossprio.integrations.huggingface import PrioritizedTrainer  # noqa: E402
from lossprio.integrations.lightning import PrioritizedModule  # noqa: E402

SHARE = 2 / 30  # 4,000 images: 2,000 to train on, 2,000 as RHO-LOSS's holdout


@pytest.fixture(scope="module")
def fashion():
    """(train x, train y, holdout x, holdout y, test x, test y) of a class-balanced slice."""
    train_set, holdout_set = halves(class_balanced_fraction(load("fashion-mnist", "train"), SHARE, seed=0))
    stats = channel_stats(train_set)
    train_x, train_y = train_set.tensors(stats)
    holdout_x, holdout_y = holdout_set.tensors(stats)
    test_x, test_y = class_balanced_fraction(load("fashion-mnist", "test"), 0.1, seed=0).tensors(stats)
    return train_x, train_y, holdout_x, holdout_y, test_x, test_y


def mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))


def error(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        wrong = float((model(inputs).argmax(1) != targets).float().mean())
    model.train()
    return wrong


def irreducible(fashion) -> torch.Tensor:
    train_x, train_y, holdout_x, holdout_y, *_ = fashion
    return per_example_losses(fit_irreducible_model(mlp(), holdout_x, holdout_y, epochs=2), train_x, train_y)


METHODS = {  # (selector, candidate batch, training batch, the share of candidates trained)
    "sb": (lambda: make_selector("sb", beta=1.0, warmup_epochs=0, seed=0), 64, 64, (0.4, 0.6)),
    "rho": (lambda: make_selector("rho", seed=0), 320, 32, (0.1, 0.1)),
}


@pytest.mark.parametrize("method", sorted(METHODS))
def test_lightning_trains_on_what_the_selector_chooses(fashion, method, tmp_path):
    make, candidates, batch, (low, high) = METHODS[method]
    train_x, train_y, *_, test_x, test_y = fashion
    model = mlp()
    before = error(model, test_x, test_y)
    module = PrioritizedModule(
        model,
        make(),
        lambda parameters: torch.optim.SGD(parameters, lr=0.1, momentum=0.9),
        batch_size=batch,
        irreducible_losses=irreducible(fashion) if method == "rho" else None,
        clip_norm=5.0,
    )
    loader = DataLoader(IndexedDataset(torch.utils.data.TensorDataset(train_x, train_y)), batch_size=candidates)
    trainer = pl.Trainer(
        max_epochs=2,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    trainer.fit(module, loader)
    loop = module.prioritizer
    assert loop.epoch == 2 and loop.candidates_seen == 2 * len(train_y)
    assert low - 1e-9 <= loop.share_trained <= high + 1e-9
    assert trainer.global_step == pytest.approx(loop.examples_trained / batch, abs=2)  # one step per batch handed out
    assert error(model, test_x, test_y) < before - 0.2


class Images(Dataset):
    """Fashion-MNIST as a Hugging Face Trainer reads a dataset: dicts with the index."""

    def __init__(self, inputs: torch.Tensor, targets: torch.Tensor) -> None:
        self.inputs, self.targets = inputs, targets

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int) -> dict:
        return {"pixel_values": self.inputs[index], "labels": self.targets[index], "indices": index}


class Classifier(nn.Module):
    """A model called as Hugging Face calls one: keyword inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.net = mlp()

    def forward(self, pixel_values: torch.Tensor, labels: torch.Tensor | None = None) -> dict:
        return {"logits": self.net(pixel_values)}


@pytest.mark.parametrize("method", sorted(METHODS))
def test_hugging_face_trains_on_what_the_selector_chooses(fashion, method, tmp_path):
    make, candidates, batch, (low, high) = METHODS[method]
    train_x, train_y, *_, test_x, test_y = fashion
    model = Classifier()
    before = error(model.net, test_x, test_y)
    arguments = transformers.TrainingArguments(
        output_dir=str(tmp_path),
        per_device_train_batch_size=candidates,
        per_device_eval_batch_size=512,
        num_train_epochs=2,
        learning_rate=1e-3,
        max_grad_norm=5.0,
        report_to=[],
        save_strategy="no",
        logging_strategy="no",
        disable_tqdm=True,
        use_cpu=True,
        remove_unused_columns=False,
        seed=0,
    )
    trainer = PrioritizedTrainer(
        model=model,
        args=arguments,
        train_dataset=Images(train_x, train_y),
        eval_dataset=Images(test_x, test_y),
        selector=make(),
        selection_batch_size=batch,
        irreducible_losses=irreducible(fashion) if method == "rho" else None,
    )
    trainer.train()
    loop = trainer.prioritizer
    assert loop.epoch == 2 and loop.candidates_seen == 2 * len(train_y)
    assert low - 0.02 <= loop.examples_trained / loop.candidates_seen <= high + 0.02  # the queue's rest is dropped
    assert error(model.net, test_x, test_y) < before - 0.2
    assert trainer.evaluate()["eval_loss"] < 1.5


def test_hugging_face_needs_the_index_column_kept(tmp_path):
    arguments = transformers.TrainingArguments(output_dir=str(tmp_path), report_to=[], use_cpu=True)
    with pytest.raises(ValueError, match="remove_unused_columns=False"):
        PrioritizedTrainer(model=Classifier(), args=arguments, selector=make_selector("sb"))
