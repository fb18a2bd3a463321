import pytest
import torch
import torch.nn.functional as F

from lossprio.batches import Augment, BatchIterator, cutout, normalize, random_crop, random_flip


def test_random_crop_is_a_window_of_the_padded_image(tiny_set):
    images = tiny_set.images[:40]
    cropped = random_crop(images, 2, torch.Generator().manual_seed(0))
    padded = F.pad(images, (2, 2, 2, 2))
    offsets = set()
    for k in range(len(images)):
        windows = [
            (dy, dx)
            for dy in range(5)
            for dx in range(5)
            if torch.equal(padded[k, :, dy : dy + 8, dx : dx + 8], cropped[k])
        ]
        assert windows, f"crop {k} is no window of its padded image"
        offsets.update(windows)
    assert len(offsets) > 10  # offsets vary between images
    assert torch.equal(random_crop(images, 0, torch.Generator()), images)
    # plain NCHW memory: channels-last strides crash torch's CPU convolution backward on some processors
    assert cropped.is_contiguous()


def test_random_flip_mirrors_about_half(tiny_set):
    images = tiny_set.images
    flipped = random_flip(images, torch.Generator().manual_seed(1))
    mirrored = (flipped == images.flip(3)).flatten(1).all(1)
    kept = (flipped == images).flatten(1).all(1)
    assert bool((mirrored | kept).all())
    assert 0.35 < mirrored.float().mean().item() < 0.65


def test_cutout_zeroes_a_square_of_the_given_side():
    images = torch.ones(500, 1, 32, 32)
    out = cutout(images, 8, torch.Generator().manual_seed(0))
    zeroed = (out == 0).flatten(1).sum(1)
    assert int(zeroed.max()) == 64 and int(zeroed.min()) >= 16  # clipped at borders, at least a quarter
    assert bool(((out == 0) | (out == 1)).all())


def test_normalize_uses_channel_mean_and_std(tiny_set):
    out = normalize(tiny_set.images, (0.5, 0.5, 0.5), (0.25, 0.5, 1.0))
    assert out.dtype == torch.float32
    expected = (tiny_set.images[:, 1].float() / 255 - 0.5) / 0.5
    assert torch.allclose(out[:, 1], expected)


def test_epoch_visits_every_index_once_and_is_deterministic(tiny_set):
    iterator = BatchIterator(tiny_set, 64, augment=Augment(crop_padding=2, flip=True, cutout=3), seed=7)
    batches = list(iterator.epoch(0))
    indices = torch.cat([b.indices for b in batches])
    assert sorted(indices.tolist()) == list(range(len(tiny_set)))
    assert [len(b.indices) for b in batches] == [64, 64, 64, 48]
    again = list(iterator.epoch(0))
    assert all(torch.equal(a.inputs, b.inputs) and torch.equal(a.indices, b.indices) for a, b in zip(batches, again))
    assert not torch.equal(torch.cat([b.indices for b in iterator.epoch(1)]), indices)
    assert all(torch.equal(b.labels, tiny_set.labels[b.indices]) for b in batches)


def test_evaluation_batches_are_only_normalised(tiny_set):
    augment = Augment(crop_padding=2, flip=True, cutout=3, mean=(0.5,) * 3, std=(0.2,) * 3)
    iterator = BatchIterator(tiny_set, 100, shuffle=False, augment=augment, evaluation=True)
    batch = next(iter(iterator))
    assert torch.equal(batch.indices, torch.arange(100))
    assert torch.allclose(batch.inputs, normalize(tiny_set.images[:100], augment.mean, augment.std))


def test_drop_last_and_bad_parameters(tiny_set):
    assert len(BatchIterator(tiny_set, 100, drop_last=True)) == 2
    with pytest.raises(ValueError, match="batch_size=0 must be a positive integer"):
        BatchIterator(tiny_set, 0)
    with pytest.raises(ValueError, match="crop_padding=-1"):
        Augment(crop_padding=-1)


def test_data_benchmark_reports_both_pipelines(capsys):
    from lossprio import bench_data

    rates = bench_data.main(["--dataset", "synthetic-cifar", "--images", "256", "--workers", "0", "--device", "cpu"])
    assert set(rates) == {"on_device_cpu", "dataloader_pil_0_workers"} and min(rates.values()) > 0
    assert "on-device is" in capsys.readouterr().out
