import numpy as np
import pytest
import torch
from PIL import Image

from lossprio import data


def test_fashion_mnist_loads_offline_from_debian_files():
    train, test = data.load("fashion-mnist", "train"), data.load("fashion-mnist", "test")
    assert (len(train), len(test)) == (60_000, 10_000)
    assert train.image_shape == (1, 28, 28) and train.images.dtype == torch.uint8
    assert train.num_classes == 10 and train.classes[9] == "Ankle boot"
    assert torch.bincount(train.labels).tolist() == [6000] * 10
    assert train.images.float().mean() > 50  # real images, not zeros


def test_digits_splits_are_disjoint_and_complete():
    train, test = data.load("digits", "train"), data.load("digits", "test")
    assert len(train) + len(test) == 1797
    assert train.image_shape == (1, 28, 28)
    assert train.images.max() > 200 and set(train.labels.unique().tolist()) == set(range(10))


def test_unknown_names_list_what_is_allowed():
    with pytest.raises(ValueError, match="unknown dataset 'cifar11'.*cifar10.*fashion-mnist"):
        data.load("cifar11")
    with pytest.raises(ValueError, match=r"split='valid'.*\['train', 'test'\]"):
        data.load("fashion-mnist", "valid")


def test_folder_datasets_need_an_existing_root(tmp_path):
    with pytest.raises(ValueError, match="root=None"):
        data.load("cinic10", "train")
    with pytest.raises(ValueError, match="data_root='.*nowhere' is not a folder"):
        data.load("cinic10", "train", tmp_path / "nowhere")
    with pytest.raises(ValueError, match="root: the cinic10 folder .*train' does not exist"):
        data.load("cinic10", "train", tmp_path)  # a root without the split's folder


def test_image_folder_layout_loads_and_resizes(tmp_path):
    for class_name, colour in (("cat", 10), ("dog", 200)):
        (tmp_path / "valid" / class_name).mkdir(parents=True)
        for k in range(3):
            Image.fromarray(np.full((40, 40, 3), colour + k, dtype=np.uint8)).save(
                tmp_path / "valid" / class_name / f"{k}.png"
            )
    image_set = data.load("cinic10", "valid", tmp_path)
    assert image_set.image_shape == (3, 32, 32) and image_set.classes == ("cat", "dog")
    assert image_set.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert image_set.images[3].float().mean().round() == 200


def test_halves_are_even_and_odd_positions(tiny_set):
    even, odd = data.halves(tiny_set)
    assert even.source_index.tolist() == list(range(0, len(tiny_set), 2))
    assert odd.source_index.tolist() == list(range(1, len(tiny_set), 2))
    assert torch.equal(odd.images, tiny_set.images[1::2])


def test_class_balanced_fraction_is_exact_per_class(tiny_set):
    part = data.class_balanced_fraction(tiny_set, 0.25, seed=3)
    assert torch.bincount(part.labels).tolist() == [15] * 4
    assert torch.equal(part.images, tiny_set.images[part.source_index])
    assert torch.equal(part.source_index, data.class_balanced_fraction(tiny_set, 0.25, seed=3).source_index)
    with pytest.raises(ValueError, match=r"fraction=1.5 is outside the allowed range \[0, 1\]"):
        data.class_balanced_fraction(tiny_set, 1.5, seed=0)


def test_keep_classes_keeps_only_those_labels(tiny_set):
    part = data.keep_classes(tiny_set, [1, 3])
    assert set(part.labels.tolist()) == {1, 3} and len(part) == len(tiny_set) // 2
    with pytest.raises(ValueError, match="outside synthetic's 0..3"):
        data.keep_classes(tiny_set, [4])


def test_channel_stats_match_pixels(tiny_set):
    mean, std = data.channel_stats(tiny_set)
    assert len(mean) == 3
    assert mean[0] == pytest.approx(tiny_set.images[:, 0].double().mean().item() / 255)
    assert std[2] == pytest.approx(tiny_set.images[:, 2].double().std().item() / 255)


def test_a_validation_split_is_carved_from_the_training_examples_with_clean_labels_and_left_out_of_training():
    from lossprio.assemble import load_data
    from lossprio.config import TrainConfig
    from lossprio.data import load

    noisy = {"corruption": "random_labels", "corruption_fraction": 0.5}
    whole, _, test, _ = load_data(TrainConfig(dataset="digits", **noisy))
    train, _, validation, corrupted = load_data(
        TrainConfig(dataset="digits", validation_fraction=0.2, evaluate_on="validation", **noisy)
    )
    trained_on, _, tested_on, _ = load_data(TrainConfig(dataset="digits", validation_fraction=0.2, **noisy))
    assert len(train) + len(validation) == len(whole) and len(trained_on) == len(train)
    assert torch.equal(tested_on.images, test.images)  # evaluate_on="test" keeps the test set
    clean = load("digits", "train")
    pixels = {bytes(image.flatten().tolist()): int(label) for image, label in zip(clean.images, clean.labels)}
    assert all(pixels[bytes(i.flatten().tolist())] == int(y) for i, y in zip(validation.images, validation.labels))
    seen = {bytes(i.flatten().tolist()) for i in train.images}
    assert not any(bytes(i.flatten().tolist()) in seen for i in validation.images)
    per_class = torch.bincount(clean.labels, minlength=10)
    assert torch.bincount(validation.labels, minlength=10).tolist() == [round(0.2 * int(n)) for n in per_class]
    assert corrupted.float().mean().item() == pytest.approx(0.5, abs=0.01)  # the corruption hits the training part
