"""Sweeps beyond one machine: submitit's local executor runs runs as separate processes, a
timed-out job is requeued and resumes, and the status command tells every state apart."""

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from lossprio import launch, locks
from lossprio.layout import run_folder
from lossprio.sweep import run_all
from lossprio.train import run

from .test_reliability import hold, killed_checkpoint
from .test_train import small_config, strip_timing

ROOT = Path(__file__).parents[1]


@pytest.mark.slow
def test_submitit_local_jobs_preempted_mid_run_end_with_the_records_of_a_plain_sweep(tmp_path):
    pytest.importorskip("submitit")
    configs = {k: small_config("sb", epochs=20, batch_size=8, eval_every=100, seed=k) for k in range(2)}
    plain = run_all(configs, tmp_path / "plain", progress=False)
    # threads as the plain sweep (results depend on them); a checkpoint every epoch, so there is one to resume
    jobs = launch.submit(configs, tmp_path / "cluster", "submitit-local", timeout_min=20, checkpoint_every_s=0)
    assert len(jobs) == 2
    # preempt job 0 mid-run as a cluster would: SIGUSR2 to the process training it (the run lock names it)
    folder = run_folder(tmp_path / "cluster", configs[0].run_id)
    deadline = time.time() + 300
    while time.time() < deadline and not (folder / "record.json").exists():
        time.sleep(0.05)
    held = locks.holder(folder / "lock")
    assert held, "job 0 finished before it could be preempted: make its run longer"
    os.kill(held["pid"], signal.SIGUSR2)
    assert [job.result() for job in jobs] == ["finished", "finished"]
    records = run_all(configs, tmp_path / "cluster", progress=False)  # read, not retrained
    for key in configs:
        assert strip_timing(records[key]) == strip_timing(plain[key])
    assert records[0].counters["resumes"] == 1 and records[1].counters["resumes"] == 0
    assert "this job is preempted" in (jobs[0].stderr() or "")
    assert launch.submit(configs, tmp_path / "cluster", "submitit-local") == []  # nothing left to submit


def test_status_tells_every_state_apart(tmp_path):
    names = ("finished", "diverged", "running", "interrupted", "missing")
    configs = {name: small_config("uniform", seed=k) for k, name in enumerate(names)}
    configs["diverged"] = small_config("uniform", lr=1e3, epochs=4)
    run(configs["finished"], tmp_path, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run(configs["diverged"], tmp_path, progress=False)
    killed_checkpoint(configs["interrupted"], tmp_path)
    holder = hold(run_folder(tmp_path, configs["running"].run_id) / "lock", 30)
    try:
        rows = {row["run"]: row for row in launch.status(configs, tmp_path)}
    finally:
        holder.kill()
        holder.wait()
    assert {name: rows[name]["state"] for name in names} == {name: name for name in names}
    assert f"pid {holder.pid}" in rows["running"]["detail"] and "lock held" in rows["running"]["detail"]
    assert "diverged" in rows["diverged"]["detail"]
    summary = launch.summarize(list(rows.values()), tmp_path, "python -m lossprio.sweep …")
    table = summary.splitlines()
    assert table[0] == f"runs in {tmp_path}" and table[1].split() == ["state", "runs"]
    assert [line.split() for line in table[2:7]] == [[s, "1"] for s in sorted(names)]
    assert table[7] == "not finished (4):" and table[-1] == "resume them with: python -m lossprio.sweep …"
    assert set(launch.unfinished(configs, tmp_path)) == {"running", "interrupted", "missing"}


def test_the_sweep_command_reports_status_and_refuses_bad_launchers(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "lossprio.sweep", "hu2021", "--out", str(tmp_path), "--status"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0 and result.stdout.splitlines()[2].split() == ["missing", "38"], result.stderr
    result = subprocess.run(
        [sys.executable, "-m", "lossprio.sweep", "hu2021", "--out", str(tmp_path), "--launcher", "pbs"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 2 and "argument --launcher: invalid choice: 'pbs'" in result.stderr
    with pytest.raises(
        ValueError, match=r"launcher='local' is not allowed here; choose one of \['slurm', 'submitit-local'\]"
    ):
        launch.submit({}, tmp_path, "local")
