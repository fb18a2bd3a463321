"""The book's tables, recomputed from the committed `cpu` records, are what the pages show: a
change to the chapter layer that moves any number (or wording of a claim) fails here.

``tests/data/book_tables_cpu.json`` holds every chapter's tables as they were computed when the
pages were last executed; after a deliberate change (new records, a corrected measure), rewrite it
with ``python -m tests.test_book_tables`` and re-execute the pages.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from lossprio.chapters import chapter, chapter_names

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = ROOT / "tests" / "data" / "book_tables_cpu.json"
CHAPTERS = [name for name in chapter_names() if chapter(name).tables is not None]


def plain(value: Any) -> Any:
    """A table as text a JSON file can hold and a diff can show (frames and series as CSV)."""
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return value.to_csv()
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {str(k): plain(item) for k, item in value.items()}
    if hasattr(value, "__dict__"):  # a claim and the comparisons it rests on
        return {k: plain(item) for k, item in vars(value).items()}
    return value


def tables(name: str) -> dict[str, Any]:
    """Chapter ``name``'s tables at ``cpu`` from the committed records."""
    found = chapter(name)
    settings = found.profile("cpu")
    records = found.done_records(found.expand(settings), ROOT / "results" / name / "cpu")
    return {key: plain(value) for key, value in found.computed_tables(records, settings).items()}


@pytest.mark.parametrize("name", CHAPTERS)
def test_tables_match_the_executed_pages(name):
    snapshot = json.loads(SNAPSHOT.read_text())
    assert name in snapshot, (
        f"no tables held for chapter {name!r}: run `python -m tests.test_book_tables` once its pages are executed"
    )
    expected = snapshot[name]
    found = tables(name)
    assert sorted(found) == sorted(expected)
    for key in expected:
        assert found[key] == expected[key], f"{name}: table {key!r} changed"


def test_every_noise_floor_row_prints_exactly_one():
    """The baseline against its own seeds is summarised as the baseline is: 1.0× in every cell."""
    import io

    snapshot = json.loads(SNAPSHOT.read_text())
    floors = {  # (chapter, table): the rows that hold the baseline against itself
        ("jiang2019", "table_1"): lambda frame: frame["method"].str.contains("noise floor"),
        ("mindermann2022", "speedup_table"): lambda frame: frame["method"].str.contains("noise floor"),
        ("hu2021", "table_1 backprops speedups"): lambda frame: (
            (frame["method"] == "standard") & (frame["source"] == "ours")
        ),
        ("crosspaper", "speedup_table"): lambda frame: frame["method"] == "uniform",
    }
    for (name, key), rows in floors.items():
        frame = pd.read_csv(io.StringIO(snapshot[name][key]))
        cells = frame[rows(frame)].drop(columns=["method", "source", "measure"], errors="ignore").to_numpy().flat
        cells = [str(c) for c in cells]
        assert cells and all(c.startswith("1.0x") for c in cells), (name, key, cells)


if __name__ == "__main__":
    SNAPSHOT.write_text(json.dumps({name: tables(name) for name in CHAPTERS}, indent=1, sort_keys=True) + "\n")
    print(f"wrote {SNAPSHOT}")
