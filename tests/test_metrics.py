import pytest

from lossprio.compare import speedup as seeds_speedup
from lossprio.metrics import NEVER, pareto_frontier, steps_to_accuracy
from lossprio.records import RunRecord


def record(backprops, errors, wall=None) -> RunRecord:
    wall = wall or backprops
    evals = [
        {"backprops": b, "train_wall_s": w, "step": b // 10, "test_error": e}
        for b, w, e in zip(backprops, wall, errors)
    ]
    return RunRecord(run_id="r", config={}, commit="c", machine={}, evals=evals)


def speedup(baseline: RunRecord, method: RunRecord, **settings):
    """One seed a side: the papers' own definition."""
    return seeds_speedup([baseline], [method], **settings)


def test_speedup_to_best_error_as_paper_h_defines_it():
    baseline = record([100, 200, 300, 400], [0.30, 0.12, 0.10, 0.11])  # best 0.10 → target 0.12 at 200
    method = record([50, 100, 150], [0.20, 0.115, 0.09])
    result = speedup(baseline, method, factor=1.2)
    assert result.target_error == pytest.approx(0.12)
    assert result.value == pytest.approx(2.0) and str(result) == "2.0x"  # one seed a side: no interval


def test_never_reached_is_its_own_value():
    baseline = record([100, 200], [0.2, 0.1])
    method = record([100, 200], [0.5, 0.3])
    result = speedup(baseline, method)
    assert result.value is NEVER and result.reached == 0 and str(result) == "—"


def test_final_reference_and_wall_clock_axis_as_paper_j():
    baseline = record([100, 200, 300], [0.3, 0.08, 0.10], wall=[10, 20, 30])  # final 0.10 → target 0.11
    method = record([100, 200], [0.105, 0.09], wall=[4, 8])
    result = speedup(baseline, method, factor=1.1, reference="final", x="train_wall_s")
    assert result.value == pytest.approx(20 / 4)
    with pytest.raises(ValueError, match="reference='last'"):
        speedup(baseline, method, reference="last")
    with pytest.raises(ValueError, match=r"factor=0.9 is outside"):
        speedup(baseline, method, factor=0.9)


def test_steps_to_accuracy_and_pareto_frontier():
    run = record([10, 20, 30], [0.5, 0.2, 0.15])
    assert steps_to_accuracy(run, 0.8) == 2
    assert steps_to_accuracy(run, 0.9) is NEVER
    points = [(1, 0.5), (2, 0.3), (3, 0.35), (4, 0.2), (2, 0.4)]
    assert pareto_frontier(points) == [(1, 0.5), (2, 0.3), (4, 0.2)]


def test_forward_flops_count_every_multiply_add_of_linear_and_convolution_layers():
    from lossprio.cost import forward_flops

    mlp = forward_flops("mlp", {"hidden": [512, 512]}, 1, 28, 10)
    assert mlp == 2 * (784 * 512 + 512 * 512 + 512 * 10)
    resnet = forward_flops("resnet18", {}, 3, 32, 10)
    assert 1.0e9 < resnet < 1.2e9  # ResNet-18 on CIFAR: about 0.56 G multiply-adds


def test_paper_cost_scales_the_cpu_runs_counts_to_the_papers_size_and_length():
    from lossprio import cost
    from lossprio.config import TrainConfig
    from lossprio.records import RunRecord

    cpu = TrainConfig(dataset="digits", model="mlp", model_kwargs={"hidden": [8]}, epochs=2)
    record = RunRecord(
        "r",
        cpu.to_dict(),
        "c",
        {},
        status="finished",
        selection_counts=[0] * 100,
        counters={"selection_forwards": 0, "training_forwards": 200, "backprops": 200},
    )
    paper = TrainConfig(dataset="cifar10", model="mlp", model_kwargs={"hidden": [8]}, epochs=4, eval_every=None)
    forward = cost.forward_flops("mlp", {"hidden": [8]}, 3, 32, 10)
    # 4 epochs over 50k: 200k training forwards and 200k backprops (2 forwards each), 4 evaluations of 10k
    expected = forward * (200_000 + 2 * 200_000 + 4 * 10_000)
    assert cost.estimate({"k": paper}, {"k": record}).petaflops * 1e15 == pytest.approx(expected)
