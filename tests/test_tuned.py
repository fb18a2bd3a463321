"""The tuned-baseline chapter: one recipe for every method, learning rates tuned on a validation
split and chosen from records, comparisons with tuned uniform decided by intervals."""

import dataclasses
import math
from pathlib import Path
from types import SimpleNamespace

import pytest

from lossprio import sweep
from lossprio.chapters import recipes
from lossprio.chapters import tuned as T
from lossprio.chapters.kit import EPOCH
from lossprio.compare import Difference, Estimate, difference

from .conftest import BOOK_RESULTS

ROOT = Path(__file__).resolve().parents[1]


def test_every_run_decays_to_zero_at_its_budget_and_tunes_on_the_validation_split_only():
    settings = dataclasses.replace(
        T.CHAPTER.profile("cpu"),
        chosen_lrs=(("uniform", T.PRISTINE, 8.0, 1e-3), (T.NATIVE, T.PRISTINE, 8.0, 1e-3)),
        extended_lrs=(),
        runner_up_lrs=(),
    )
    runs = T.runs(settings)
    tuning = {k: c for k, c in runs.items() if k.stage == T.TUNING}
    assert len(settings.tuning_seeds) >= 2 and settings.extend_edges and settings.run_runner_up
    assert len(tuning) == len(T.tuned_cells(settings)) * len(settings.lr_grid) * len(settings.tuning_seeds)
    assert len(T.tuned_cells(settings)) == len(T.METHODS) * len(T.DATA) * 4 + 2 * len(T.DATA)  # + pilot, native
    assert len({c.run_id for c in runs.values()}) == len(runs)
    for key, config in runs.items():
        assert (config.lr, config.lr_schedule, config.optimizer, config.split) == (key.lr, "cosine", "adamw", "half")
        assert config.validation_fraction == 0.1 and config.lr_milestones == ()
        assert config.evaluate_on == ("validation" if key.stage == T.TUNING else "test")
        if key.method == T.NATIVE:  # InfoBatch's own epochs: no budget, the schedule over its epochs
            assert config.budget is None and config.epochs == round(key.budget)
            continue
        assert config.budget == key.budget
        method = T.METHODS[key.method]
        if method.traversal == EPOCH:  # enough epochs for the budget to stop the run, whatever it prunes
            assert config.candidate_size == settings.keep
            assert (config.epochs - 2) * recipes.epoch_share(method) >= key.budget
        else:
            assert config.candidate_size == settings.candidate_batch
    finals = [k for k in runs if k.stage == T.FINAL]
    assert sorted({k.seed for k in finals}) == list(settings.seeds) and len(settings.seeds) >= 5
    assert {(k.method, k.budget) for k in finals} == {("uniform", 8.0), (T.NATIVE, 8.0)}


def test_the_learning_rate_chosen_is_the_lowest_validation_error_and_a_diverged_run_is_never_chosen():
    settings = dataclasses.replace(
        T.CHAPTER.profile("smoke"), methods=("uniform",), data=(T.PRISTINE,), native_infobatch=False
    )
    low, high = settings.lr_grid

    def record(error: float, status: str = "finished") -> SimpleNamespace:
        return SimpleNamespace(final_test_error=error, status=status)

    records = {
        T.Run("uniform", T.PRISTINE, 1.0, 0, low, T.TUNING): record(0.20),
        T.Run("uniform", T.PRISTINE, 1.0, 0, high, T.TUNING): record(0.15),
        T.Run("uniform", T.PRISTINE, 3.0, 0, low, T.TUNING): record(0.12),
        T.Run("uniform", T.PRISTINE, 3.0, 0, high, T.TUNING): record(0.01, "diverged"),
        T.Run("uniform", T.PRISTINE, 6.0, 0, low, T.TUNING): record(0.11),
        T.Run("uniform", T.PRISTINE, 6.0, 0, high, T.TUNING): record(0.11),  # a tie: the smaller rate
    }
    assert T.choose_lrs(records, settings) == (
        ("uniform", T.PRISTINE, 1.0, high),
        ("uniform", T.PRISTINE, 3.0, low),
        ("uniform", T.PRISTINE, 6.0, low),  # the pilot: pilot_factor × the full budget
    )
    del records[T.Run("uniform", T.PRISTINE, 1.0, 0, low, T.TUNING)]  # a cell with a rate untried is not chosen
    assert [c[2] for c in T.choose_lrs(records, settings)] == [3.0, 6.0]
    pilot = T.pilot(records, settings)
    assert pilot.loc[T.PRISTINE, "beyond the full budget (pts)"] == pytest.approx(11.0 - 12.0)


def test_a_comparison_says_yes_only_when_its_whole_interval_is_below_zero():
    def said(centre: float, se: float) -> str:
        return T.answer(Difference(centre, Estimate(centre, se, 8.0), (5, 5)))

    assert (said(-0.4, 0.1), said(0.05, 0.1), said(0.4, 0.1)) == ("yes", "inconclusive", "no")
    assert T.answer(difference([9.0], [10.0])) == "inconclusive"  # one seed a side: no interval, no decision
    assert str(difference([10.0, 10.2, 10.1], [11.0, 11.1, 10.9])).startswith("-0.90 [")
    from lossprio.chapters.claims import decide

    def lossless(centre: float, se: float) -> str:
        return decide("", [(T.LOSSLESS, {"": Difference(centre, Estimate(centre, se, 8.0), (5, 5))})]).verdict

    assert (lossless(0.2, 0.05), lossless(0.9, 0.1), lossless(0.4, 0.2)) == (
        "confirmed",
        "contradicted",
        "inconclusive",
    )


def test_identical_runs_are_said_to_be_so_and_left_out_of_a_claims_verdict():
    def runs(*errors: float) -> list[SimpleNamespace]:
        return [
            SimpleNamespace(config={"seed": s}, status="finished", final_test_error=e) for s, e in enumerate(errors)
        ]

    same = T.compare(runs(0.10, 0.12, 0.11), runs(0.10, 0.12, 0.11))
    assert same.identical and (T.answer(same), same.numbers) == ("same runs", "±0")
    shifted = T.compare(runs(0.10, 0.11, 0.12), runs(0.10, 0.12, 0.11))  # the same errors by other seeds
    assert not shifted.identical and T.answer(shifted) == "inconclusive"
    better = T.compare(runs(0.08, 0.081, 0.082), runs(0.10, 0.12, 0.11))
    from lossprio.chapters.claims import decide

    claim = decide("", [(T.LOWER_ERROR, {"a": same, "b": better})])
    assert claim.verdict == "confirmed" and "same runs" in claim.ours  # the same runs are shown, not counted


@pytest.mark.slow
def test_two_stages_on_smoke_records():
    # the smoke profile's own runs, in the folder its notebook reads: they train once a session
    settings = dataclasses.replace(T.CHAPTER.profile("smoke"), chosen_lrs=(), runner_up_lrs=())
    assert set(settings.methods) == {"uniform", T.RS2, T.INFOBATCH, "SB β=1"} and settings.data == (T.PRISTINE,)
    assert len(settings.seeds) >= 2  # an interval
    out = BOOK_RESULTS / T.CHAPTER.name / "smoke"
    records = sweep.run_all(T.runs(settings), out, progress=False)
    assert all(k.stage == T.TUNING for k in records)  # nothing chosen yet: the tuning stage only
    for key, record in records.items():
        if key.method != T.NATIVE:  # the budget spent to within a batch, the rate decayed to 0 at its end
            assert abs(record.counters["backprops"] - key.budget * len(record.selection_counts)) <= settings.keep
            assert record.steps["lr"][-1] < 0.01 * key.lr
    chosen = T.with_choices(settings, records)
    assert len(chosen.chosen_lrs) == len(T.tuned_cells(settings))
    records = sweep.run_all(T.runs(chosen), out, progress=False)
    finals = [k for k in records if k.stage == T.FINAL]
    assert len(finals) == len(T.final_cells(settings)) * 2 == (len(T.tuned_cells(settings)) - 1) * 2  # no pilot
    beats = T.beats_table(records, chosen)
    assert list(beats.columns) == list(settings.data)
    assert set(beats.index.get_level_values("method")) == {T.RS2, T.INFOBATCH, "SB β=1"}
    assert all(cell.split(":")[0] in ("yes", "no", "inconclusive", "same runs") for cell in beats.to_numpy().flat)
    # at a budget of one epoch, SB is still in its one-epoch warm-up and InfoBatch prunes nothing (every score
    # starts equal): both train as uniform, at the rate tuning chose for uniform's identical runs
    assert beats.loc[("SB β=1", "1"), T.PRISTINE] == beats.loc[(T.INFOBATCH, "1"), T.PRISTINE] == "same runs: ±0"
    assert beats.loc[(T.RS2, "1"), T.PRISTINE] != "same runs: ±0"  # its own permutation: other examples, other runs
    differences = T.difference_by_budget(records, chosen).set_index(["method", "budget (epochs)"])
    assert len(differences) == beats.size
    warm = differences.loc[("SB β=1", 1.0)]
    assert (warm["difference (pts)"], warm["low"], warm["high"]) == (0.0, 0.0, 0.0)  # same runs: no bar
    spread = differences.loc[(T.RS2, 3.0)]
    assert spread["low"] < spread["difference (pts)"] < spread["high"]
    native = T.native_infobatch(records, chosen)
    assert all(n.saved > 0 for n in native.values())  # its pruned epochs back-propagate less than uniform
    claims = T.claims(records, chosen)
    assert [c.claim.split(":")[0] for c in claims] == ["Kaddour et al.", "Okanovic et al.", "Qin et al."]
    assert all(c.verdict in ("confirmed", "contradicted", "mixed", "inconclusive") for c in claims)
    assert len(T.guide(records, chosen)) == 1
    assert set(T.tables(records, chosen, {})) >= {"beats_table", "chosen_lr_table", "pilot", "claims"}


def test_the_committed_choices_are_what_the_committed_tuning_records_choose():
    folder = ROOT / "results" / T.CHAPTER.name / "cpu"
    committed = T.CHAPTER.profile("cpu")
    settled = T.settle(committed, lambda s: T.CHAPTER.done_records(T.runs(s), folder))
    assert {name: getattr(committed, name) for name in T.TUNING_FIELDS} == {
        name: getattr(settled, name) for name in T.TUNING_FIELDS
    }


def test_half_decades_follow_the_one_three_ten_series():
    assert [T.half_decade(3e-4, -1), T.half_decade(3e-3, 1), T.half_decade(1e-3, 1), T.half_decade(1e-3, -2)] == [
        1e-4,
        1e-2,
        3e-3,
        1e-4,
    ]


def test_tuning_averages_its_seeds_tries_past_an_edge_and_keeps_the_runner_up():
    settings = dataclasses.replace(
        T.CHAPTER.profile("smoke"),
        methods=("uniform",),
        data=(T.PRISTINE,),
        budgets=(3.0,),
        native_infobatch=False,
        lr_grid=(1e-3, 3e-3),
        tuning_seeds=(0, 1),
        extend_edges=True,
        run_runner_up=True,
        lr_bounds=(1e-4, 1e-2),
    )
    full, pilot = ("uniform", T.PRISTINE, 3.0), ("uniform", T.PRISTINE, 6.0)

    def record(error: float) -> SimpleNamespace:
        return SimpleNamespace(final_test_error=error, status="finished")

    # full budget: seed 0 prefers 3e-3, seed 1 prefers 1e-3 by more: the mean picks 1e-3, an edge
    errors = {(full, 1e-3): (0.20, 0.10), (full, 3e-3): (0.18, 0.16), (pilot, 1e-3): (0.2, 0.2)}
    errors[pilot, 3e-3] = (0.1, 0.1)  # the pilot's best is 3e-3, the upper edge
    records = {T.Run(*cell, seed, lr, T.TUNING): record(e[seed]) for (cell, lr), e in errors.items() for seed in (0, 1)}
    found = T.with_choices(settings, records)
    assert found.chosen_lrs == () and found.runner_up_lrs == ()  # both cells wait for a rate beyond their edge
    assert found.extended_lrs == ((*full, 3e-4), (*pilot, 1e-2))
    assert {k.lr for k in T.runs(found) if k.stage == T.TUNING} == {3e-4, 1e-3, 3e-3, 1e-2}
    records[T.Run(*full, 0, 3e-4, T.TUNING)] = record(0.5)
    assert T.with_choices(settings, records).extended_lrs == found.extended_lrs  # seed 1 of 3e-4 still missing
    records[T.Run(*full, 1, 3e-4, T.TUNING)] = record(0.5)
    for seed in (0, 1):
        records[T.Run(*pilot, seed, 1e-2, T.TUNING)] = record(0.05)  # better still, but 1e-2 is the bound
    settled = T.settle(settings, lambda s: {k: r for k, r in records.items() if k in T.runs(s)})
    assert settled.chosen_lrs == ((*full, 1e-3), (*pilot, 1e-2))
    assert settled.runner_up_lrs == ((*full, 3e-3),)  # the pilot is not a final cell: no runner-up run
    finals = T.runs(settled)
    assert {(k.lr, k.stage) for k in finals if k.stage != T.TUNING} == {(1e-3, T.FINAL), (3e-3, T.RUNNER_UP)}
    assert all(finals[k].evaluate_on == "test" for k in finals if k.stage == T.RUNNER_UP)
    assert not T.CHAPTER.reports_time(next(k for k in finals if k.stage == T.RUNNER_UP))
    table = T.tuning_table(records, settled)
    assert table.loc[("uniform", T.PRISTINE, "3"), "margin (pts)"] == pytest.approx(100 * (0.17 - 0.15))
    assert math.isnan(table.loc[("uniform", T.PRISTINE, "3"), "lr 0.01"])  # not tried in that cell


def test_chosen_rates_are_written_one_a_line_and_read_back_without_touching_other_profiles(tmp_path):
    path = tmp_path / "tuned_lrs.json"
    T.write_choices("paper", [("uniform", T.PRISTINE, 10.0, 1e-3)], path)
    T.write_choices("cpu", [("uniform", T.PRISTINE, 8.0, 3e-4), ("RS2", T.PRISTINE, 8.0, 1e-3)], path)
    assert T.committed_choices("cpu", path) == (("uniform", T.PRISTINE, 8.0, 3e-4), ("RS2", T.PRISTINE, 8.0, 1e-3))
    assert T.committed_choices("paper", path) == (("uniform", T.PRISTINE, 10.0, 1e-3),)
    assert T.committed_choices("smoke", path) == () and '["RS2", "pristine", 8.0, 0.001]' in path.read_text()
    extended, runner_up = [("uniform", T.PRISTINE, 8.0, 1e-4)], [("uniform", T.PRISTINE, 8.0, 1e-3)]
    T.write_choices("smoke", [("uniform", T.PRISTINE, 8.0, 3e-4)], path, extended=extended, runner_up=runner_up)
    assert T.committed_tuning("smoke", path) == {
        "chosen_lrs": (("uniform", T.PRISTINE, 8.0, 3e-4),),
        "extended_lrs": tuple(map(tuple, extended)),
        "runner_up_lrs": tuple(map(tuple, runner_up)),
    }
    assert T.committed_choices("cpu", path) == (("uniform", T.PRISTINE, 8.0, 3e-4), ("RS2", T.PRISTINE, 8.0, 1e-3))


def test_bad_grids_are_refused_with_the_allowed_values():
    with pytest.raises(ValueError, match=r"methods\[|method.*allowed|not allowed"):
        T.CHAPTER.runs("smoke", methods=["uniform", "SB"])
    with pytest.raises(ValueError, match="uniform is the baseline"):
        T.CHAPTER.runs("smoke", methods=["RS2"])
    with pytest.raises(ValueError, match="not allowed"):
        T.CHAPTER.runs("smoke", data=["clean"])
    assert math.isinf(T.validation_error(SimpleNamespace(status="diverged", final_test_error=0.1)))


def test_only_the_final_stage_is_timed_so_only_it_is_ever_re_timed():
    from lossprio.chapters import hu2021

    tuning, final = (T.Run("uniform", T.PRISTINE, 1.0, 0, 1e-3, stage) for stage in (T.TUNING, T.FINAL))
    assert (T.CHAPTER.reports_time(tuning), T.CHAPTER.reports_time(final)) == (False, True)
    assert hu2021.CHAPTER.reports_time(next(iter(hu2021.CHAPTER.runs("smoke"))))  # by default every run is timed


def test_a_sweep_is_sized_with_both_stages_and_every_paper_run_has_its_cpu_twin():
    paper, cpu = T.CHAPTER.profile("paper"), T.CHAPTER.profile("cpu")
    assert not paper.chosen_lrs  # nothing tuned at paper yet: runs() lists the tuning stage only
    planned = T.CHAPTER.planned(paper)
    stages = [k.stage for k in planned]
    tuning = len(T.tuned_cells(paper)) * len(paper.lr_grid) * len(paper.tuning_seeds)
    assert stages.count(T.TUNING) == tuning == len(T.CHAPTER.runs("paper"))
    assert stages.count(T.FINAL) == len(T.final_cells(paper)) * len(paper.seeds)
    uniform_finals = [c for c in T.final_cells(paper) if c[0] == T.BASELINE]
    assert stages.count(T.RUNNER_UP) == len(uniform_finals) * len(paper.seeds)
    cpu_runs = T.runs(cpu)
    for key in planned:
        other = T.CHAPTER.twin_key(key, paper, cpu)
        assert other in cpu_runs, key
        assert (other.method, other.data, other.stage) == (key.method, key.data, key.stage)
        assert other.budget / cpu.full_budget == key.budget / paper.full_budget
        if key.stage == T.TUNING:
            assert cpu.lr_grid.index(other.lr) == paper.lr_grid.index(key.lr)
    assert T.CHAPTER.twin_key(T.Run("uniform", T.PRISTINE, 10.0, 99, 1e-3, T.FINAL), paper, cpu) is None  # no seed 99
    from lossprio import cost

    cpu_dir = ROOT / "results" / "tuned" / "cpu"
    found = cost.chapter_estimate(T.CHAPTER, cpu_dir)  # the committed cpu records
    assert found.runs == found.runs_estimated == len(planned) and found.petaflops > 0
    records = T.CHAPTER.done_records(T.CHAPTER.planned(cpu), cpu_dir)  # read once by a caller, for several estimates
    assert cost.chapter_estimate(T.CHAPTER, cpu_dir, cpu_records=records) == found
