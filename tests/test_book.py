"""The book pipeline: a smoke reproduction into a temporary folder, and the jupyter-book build."""
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from lossprio.chapters import hu2021
from lossprio.reproduce import ROOT, reproduce


def cell_errors(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text())["cells"]
    return [o["ename"] for c in cells for o in c.get("outputs", []) if o.get("output_type") == "error"]


def test_smoke_reproduction_writes_the_page_and_the_records_and_resumes(tmp_path):
    [page] = reproduce("smoke", ["hu2021"], book_dir=tmp_path / "book", results_dir=tmp_path / "results", progress=False)
    assert page == tmp_path / "book" / "hu2021.ipynb" and not cell_errors(page)
    text = page.read_text()
    assert text.count('"image/png"') >= 4  # figures 1/2, 3, 4 and S5–S11
    records = sorted((tmp_path / "results" / "hu2021" / "smoke").glob("*/record.json"))
    assert len(records) == len(hu2021.CHAPTER.runs("smoke"))
    stamps = [p.stat().st_mtime_ns for p in records]
    start = time.perf_counter()
    reproduce("smoke", ["hu2021"], book_dir=tmp_path / "book", results_dir=tmp_path / "results", progress=False)
    assert [p.stat().st_mtime_ns for p in records] == stamps  # finished runs were read, not rerun
    assert time.perf_counter() - start < 60


def test_committed_pages_exist_and_ran_cleanly():
    toc = (ROOT / "_toc.yml").read_text()
    for page in ("corruptions", "hu2021"):
        assert f"book/{page}" in toc
        assert not cell_errors(ROOT / "book" / f"{page}.ipynb")


def test_book_builds_with_warnings_as_errors(tmp_path):
    jupyter_book = shutil.which("jupyter-book", path=str(Path(sys.executable).parent))
    result = subprocess.run([jupyter_book, "build", str(ROOT), "--path-output", str(tmp_path), "-W", "--keep-going"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (tmp_path / "_build" / "html" / "book" / "hu2021.html").exists()
