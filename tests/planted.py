"""Planted run records: finished runs with exactly the measurements a test gives them."""

from lossprio.records import RunRecord


def finished_run(**measurements) -> RunRecord:
    """A finished run's record holding ``measurements`` (evals, steps, counters, …) and nothing else."""
    return RunRecord(run_id="r", config={}, commit="c", machine={}, status="finished", **measurements)
