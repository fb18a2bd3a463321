"""Settings for the whole test run, notebooks included (tests/conftest.py holds the fixtures)."""

from __future__ import annotations

import os

import pytest

# One thread per process, here and in every kernel and subprocess the tests start (they inherit the
# environment): the tests' models are tiny, and beside another job on a small machine, torch's
# second thread spins waiting for a core and made the slowest tests over three times slower.
for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

#: nbval waits this long for each output message once a cell has finished; its own 5 s is
#: shorter than the gap a loaded machine leaves between a long cell's reply and its last
#: widget and display messages, and a slow message fails the cell without any error in it.
NBVAL_OUTPUT_WAIT_S = 120


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give nbval's notebook cells an output wait that a busy machine can meet."""
    for item in items:
        if hasattr(item, "output_timeout"):
            item.output_timeout = NBVAL_OUTPUT_WAIT_S


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """make test's two workers (pytest-xdist): each notebook's cells go to one worker together, in
    order (one kernel runs them), and every other test is handed out on its own, so that the
    parametrized papermill runs of one file spread over both workers."""
    from xdist.scheduler import LoadScopeScheduling

    class NotebooksTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return path if path.endswith(".ipynb") else nodeid

    return NotebooksTogether(config, log)
