"""The book pipeline: a smoke reproduction into a temporary folder, and the jupyter-book build."""

import base64
import json
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from lossprio.chapters import chapter_names, hu2021
from lossprio.reproduce import ROOT, reproduce

from .conftest import BOOK_RESULTS


def cell_errors(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text())["cells"]
    return [o["ename"] for c in cells for o in c.get("outputs", []) if o.get("output_type") == "error"]


@pytest.mark.slow
def test_smoke_reproduction_writes_the_page_and_the_records_and_resumes(tmp_path):
    results = BOOK_RESULTS  # the smoke records nbval's run of the notebook reads too: one sweep a session
    [page] = reproduce("smoke", ["hu2021"], book_dir=tmp_path / "book", results_dir=results, progress=False)
    assert page == tmp_path / "book" / "hu2021.ipynb" and not cell_errors(page)
    text = page.read_text()
    assert text.count('"image/png"') >= 4  # figures 1/2, 3, 4 and S5–S11
    parameters = [c for c in json.loads(text)["cells"] if "parameters" in c["metadata"].get("tags", [])]
    assert "injected-parameters" not in text and 'profile = "smoke"  # smoke' in "".join(parameters[0]["source"])
    configs = hu2021.CHAPTER.runs("smoke")
    records = [results / "hu2021" / "smoke" / c.run_id / "record.json" for c in configs.values()]
    assert all(p.exists() for p in records)
    stamps = [p.stat().st_mtime_ns for p in records]
    reproduce("smoke", ["hu2021"], book_dir=tmp_path / "book", results_dir=results, progress=False)
    assert [p.stat().st_mtime_ns for p in records] == stamps  # finished runs were read, not rerun


def test_committed_pages_exist_and_ran_cleanly():
    toc = (ROOT / "_toc.yml").read_text()
    for page in ("intro", "corruptions", *chapter_names(), "decide", "run_it_yourself", "own_loop"):
        assert f"book/{page}" in toc
        assert not cell_errors(ROOT / "book" / f"{page}.ipynb")


def test_every_notebook_is_valid_nbformat_with_cell_ids():
    import nbformat
    from nbformat.validator import normalize

    for path in sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "book").glob("*.ipynb")):
        raw = json.loads(path.read_text())
        changes, _ = normalize(raw)  # what nbformat would have to mend (cells without ids)
        assert changes == 0, f"{path.name}: {changes} cells without an id"
        nbformat.validate(raw)


@pytest.mark.slow
def test_book_builds_with_warnings_as_errors(tmp_path):
    jupyter_book = shutil.which("jupyter-book", path=str(Path(sys.executable).parent))
    result = subprocess.run(
        [jupyter_book, "build", str(ROOT), "--path-output", str(tmp_path), "-W", "--keep-going"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for page in ("intro", *chapter_names(), "decide", "run_it_yourself", "own_loop", "contributing", "references"):
        assert (tmp_path / "_build" / "html" / "book" / f"{page}.html").exists(), page
    raw = {page.name: raw_output(page.read_text()) for page in (tmp_path / "_build" / "html" / "book").glob("*.html")}
    assert not {page: found for page, found in raw.items() if found}, "raw output on the pages"


#: the widest figure a page may carry (px; matplotlib's 100 dpi): the book's text column is about 700 px
#: wide in a 1280-px window, so the 10-point text of a figure this wide renders at about 9 px, no smaller
MAX_FIGURE_PX = 1100


def figure_widths(notebook: Path) -> list[tuple[int, int]]:
    """(cell, width in px) of every PNG figure an executed notebook holds."""
    found = []
    for position, cell in enumerate(json.loads(notebook.read_text())["cells"]):
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            if png:  # the IHDR chunk: 8 bytes of signature, 8 of chunk header, then the width
                found.append((position, struct.unpack(">I", base64.b64decode(png[:32])[16:20])[0]))
    return found


def test_every_figure_on_the_committed_pages_is_narrow_enough_to_read():
    wide = [
        f"{page.name}, cell {cell}: {width} px"
        for page in sorted((ROOT / "book").glob("*.ipynb"))
        for cell, width in figure_widths(page)
        if width > MAX_FIGURE_PX
    ]
    assert not wide, f"figures wider than {MAX_FIGURE_PX} px (their text renders too small): {wide}"


#: what a reader should never see on a page: Python reprs, pandas printouts, float tails, markdown in cells
RAW_OUTPUT = {
    "a matplotlib repr": re.compile(r"&lt;matplotlib\.|<matplotlib\."),
    "a pandas printout": re.compile(r"dtype: (float|int|object)"),
    "an object repr": re.compile(r"object at 0x[0-9a-f]+"),
    "a float tail": re.compile(r"<td[^>]*>[^<]*\d\.\d{6,}[^<]*</td>"),
    "markdown backticks in a table cell": re.compile(r"<td[^>]*>[^<]*`[^<]*</td>"),
}


def raw_output(html: str) -> list[str]:
    """What of :data:`RAW_OUTPUT` a built page holds, with a little context."""
    found = []
    for what, pattern in RAW_OUTPUT.items():
        for match in pattern.finditer(html):
            found.append(f"{what}: {html[max(0, match.start() - 40) : match.end() + 20]!r}")
    return found


def test_the_raw_output_scan_finds_what_it_looks_for():
    planted = (
        "<pre>&lt;matplotlib.legend.Legend at 0x7f6e25387250&gt;</pre><pre>Name: share, dtype: float64</pre>"
        "<td>0.16666666666666666</td><td>`kath18`</td><pre>&lt;lossprio.records.RunRecord object at 0x7f00&gt;</pre>"
    )
    assert len(raw_output(planted)) == 5
    assert raw_output("<td>16.7 %</td><td>kath18</td><p>`code` in prose</p>") == []


def test_reproduce_gives_each_notebook_the_parameters_it_declares_and_runs_the_summaries_last(tmp_path, monkeypatch):
    import papermill

    from lossprio import reproduce as module

    calls = []
    monkeypatch.setattr(
        papermill,
        "execute_notebook",
        lambda source, target, parameters, **_: (
            calls.append((Path(source).stem, parameters)),
            Path(target).write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'),
        ),
    )
    module.reproduce("cpu", None, book_dir=tmp_path / "book", results_dir=tmp_path / "results", progress=False)
    names = [name for name, _ in calls]
    assert names[-2:] == ["intro", "run_it_yourself"] and {
        "jiang2019",
        "hu2021",
        "mindermann2022",
        "corruptions",
    } <= set(names)
    assert names.index("crosspaper") > names.index("mindermann2022")  # it reads chapter M's records
    given = dict(calls)
    assert given["corruptions"] == {}
    assert (
        set(given["crosspaper"]) == {"profile", "progress", "results_root"} and given["crosspaper"]["profile"] == "cpu"
    )
    assert given["hu2021"]["profile"] == "cpu" and given["hu2021"]["results_dir"].endswith("results/hu2021")
    assert (
        given["intro"]["profile"] == "cpu"
        and given["intro"]["results_root"].endswith("results")
        and "results_dir" not in given["intro"]
    )
    assert set(given["run_it_yourself"]) == {"results_root"}


def test_the_dashboard_reads_records_without_running_anything(tmp_path):
    from lossprio import sweep
    from lossprio.layout import done_records
    from lossprio.notebook import provenance

    configs = hu2021.CHAPTER.runs("smoke")
    assert done_records(configs, tmp_path) == {} and not list(tmp_path.iterdir())  # read only: no folder made
    some = dict(list(configs.items())[:2])
    records = sweep.run_all(some, tmp_path, progress=False)
    assert set(done_records(configs, tmp_path)) == set(some)
    text = provenance(records, "hu2021", "smoke")
    assert (
        text.startswith("**What these runs cost:** 2 runs at profile `smoke`")
        and "/tree/main/results/hu2021/smoke)" in text
    )


def test_provenance_asks_for_re_timing_only_runs_whose_wall_clock_the_page_reports():
    from types import SimpleNamespace

    from lossprio.notebook import provenance

    def record(busy: bool) -> SimpleNamespace:
        machine = {"device_name": "x86_64", "device": "cpu", "torch_threads": 1, "torch": "2"}
        return SimpleNamespace(machine=machine, counters={"wall_s": 60.0}, commit="abc", timed_busy=busy)

    records = {("tuning", 0): record(True), ("tuning", 1): record(True), ("final", 0): record(False)}
    every = provenance(records, "tuned", "cpu")
    assert "2 of the runs were timed while the machine was busy" in every and "--retime-busy" in every
    finals = provenance(records, "tuned", "cpu", timed=lambda key: key[0] == "final")
    assert "--retime-busy" not in finals and "2 runs whose wall clock the page does not report ran while" in finals


def test_injected_parameters_are_folded_into_the_parameters_cell_a_reader_edits():
    from lossprio.notebook import fold_injected_parameters

    def cell(source: str, tag: str) -> dict:
        return {"cell_type": "code", "metadata": {"tags": [tag]}, "source": source.splitlines(keepends=True)}

    notebook = {
        "cells": [
            cell(
                'profile = "smoke"  # smoke | cpu | paper\noverrides = {}  # settings\nprogress = True\n', "parameters"
            ),
            cell(
                '# Parameters\nprofile = "cpu"\nprogress = False\nresults_dir = "../results/x"\n', "injected-parameters"
            ),
            cell("print(profile)", "hide-input"),
        ]
    }
    folded = fold_injected_parameters(notebook)
    assert [c["metadata"]["tags"] for c in folded["cells"]] == [["parameters"], ["hide-input"]]
    assert "".join(folded["cells"][0]["source"]) == (
        'profile = "cpu"  # smoke | cpu | paper\noverrides = {}  # settings\nprogress = False\n'
        'results_dir = "../results/x"'
    )
