"""Helpers for the chapter notebooks: papermill parameters that are checked, not silently ignored;
a chapter page's header (settings, runs, records and what they cost) and claims cell; and the
Colab bootstrap cell, written from the repository URL in ``_config.yml``.

papermill injects ``-p name value`` pairs as a cell after the ``parameters`` cell and only
warns about names the notebook does not declare, so ``-p profil cpu`` would run the notebook at
its default size. A notebook therefore opens a :class:`ParameterGuard` in a (hidden) cell before
its ``parameters`` cell and calls :meth:`ParameterGuard.check` in the first cell after it.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .checks import check_annotated
from .cli import command
from .config import TrainConfig
from .records import RunRecord

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

    from .chapters import Chapter, Claim


class ParameterGuard:
    """Remembers the names a notebook's namespace held before its parameters were set."""

    def __init__(self, namespace: Mapping[str, Any]) -> None:
        self.before = set(namespace)

    def check(self, namespace: Mapping[str, Any], declared: Mapping[str, Any] | Iterable[str]) -> None:
        """``ValueError`` naming every new variable that is not a declared parameter (IPython's
        ``_``-prefixed history names are ignored) and, where ``declared`` maps names to types
        (``{"profile": str, "data_root": str | None}``), every parameter of the wrong type."""
        types = dict(declared) if isinstance(declared, Mapping) else {}
        declared = set(declared)
        unknown = sorted(n for n in set(namespace) - self.before - declared if not n.startswith("_"))
        if unknown:
            raise ValueError(f"unknown notebook parameter(s) {unknown}; this notebook takes {sorted(declared)}")
        for name, hint in types.items():
            if name in namespace:
                check_annotated(f"parameter {name}", namespace[name], hint)


# ----------------------------------------------------------------------------- a chapter's page


@dataclass
class ChapterPage:
    """What a chapter's notebook works with: its settings at one profile, the runs they expand to,
    and the folder their records go to (other chapters' folders are read for the runs it shares)."""

    chapter: Chapter
    profile: str
    settings: Any
    configs: dict[Any, TrainConfig]
    out_dir: Path

    @classmethod
    def open(
        cls, chapter: Chapter, profile: str, overrides: Mapping[str, Any], out_dir: str | Path, headline: bool = False
    ) -> ChapterPage:
        """``chapter`` at ``profile`` with ``overrides`` (settings field → value), records in ``out_dir``.

        A chapter's own page needs every run, so it refuses settings that keep only some
        (``keep_runs``: the ``colab`` profiles of chapters J, H, M and the cross-paper chapter).
        ``headline``: the page is ``notebooks/colab.ipynb``, which shows only the chapter's
        headline; at any profile it keeps the runs the ``colab`` profile keeps."""
        if headline and "keep_runs" not in overrides and hasattr(chapter.profiles.get("colab"), "keep_runs"):
            overrides = {**overrides, "keep_runs": chapter.profiles["colab"].keep_runs}
        settings = chapter.profile(profile, **overrides)
        if not headline and getattr(settings, "keep_runs", None):
            raise ValueError(
                f"profile={profile!r} keeps only the headline's runs (keep_runs={settings.keep_runs}), and this page "
                f"needs every run: open notebooks/colab.ipynb with chapter={chapter.name!r}, or give "
                "overrides={'keep_runs': {}} to run them all"
            )
        return cls(chapter, profile, settings, chapter.expand(settings), Path(out_dir))

    def with_settings(self, settings: Any) -> ChapterPage:
        """The same page at other ``settings`` (e.g. a later stage's), records in the same folder."""
        return ChapterPage(self.chapter, self.profile, settings, self.chapter.expand(settings), self.out_dir)

    def describe(self) -> Styler:
        """Print the runs and where their records are; return the settings as a table (every
        value in full: a plain frame's display cuts long text short)."""
        import pandas as pd

        line = f"profile {self.profile!r}: {len(self.configs)} runs, records in {self.out_dir}"
        if self.chapter.reuses:
            line += f", shared runs read from {', '.join(map(str, self.chapter.reuse_dirs(self.out_dir)))}"
        print(line)
        values = {  # a field too long for a cell says where the page shows it (its metadata's "shown_as")
            f.name: f.metadata.get("shown_as") or readable(f.name, getattr(self.settings, f.name))
            for f in fields(self.settings)
        }
        frame = pd.DataFrame({"value": values}).rename_axis(f"settings of profile {self.profile!r}")
        return frame.style.set_properties(**{"text-align": "left", "white-space": "normal"})

    def run(self, progress: bool = True) -> dict[Any, RunRecord]:
        """Every run's record: read where it exists (here or in a shared chapter's folder), trained
        otherwise; says first how many runs will train (on Colab, where the committed records are
        not beside the notebook, that is all of them)."""
        from . import layout, sweep

        folders = [self.out_dir, *self.chapter.reuse_dirs(self.out_dir)]  # a look, not a read: run_all reads them
        missing = sum(not any(layout.record_path(f, c.run_id).exists() for f in folders) for c in self.configs.values())
        if missing:
            print(
                f"{missing} of the {len(self.configs)} runs have no record in {self.out_dir} and train now "
                f"(profile {self.profile!r}; the book's Run it yourself page gives what each profile costs)"
            )
        return sweep.run_all(
            self.configs,
            self.out_dir,
            progress=progress,
            threads=getattr(self.settings, "threads", None),
            reuse=self.chapter.reuse_dirs(self.out_dir),
            cache_dir=layout.shared_cache_dir(self.out_dir, self.chapter.name),
        )

    def run_stages(self, progress: bool = True) -> tuple[ChapterPage, dict[Any, RunRecord]]:
        """:meth:`run`, then each later stage the records settle (the chapter's
        :attr:`~lossprio.chapters.Chapter.next_stage`: rates the tuning or a pilot chose) until none
        is left; the page at the last stage's settings and its records."""
        page, records = self, self.run(progress)
        while self.chapter.next_stage is not None:
            settings = self.chapter.next_stage(page.settings, records)
            if settings == page.settings:
                break
            page = page.with_settings(settings)
            records = page.run(progress)
        return page, records

    def provenance(self, records: Mapping[Any, RunRecord]) -> str:
        """:func:`provenance` of the chapter's records, saying how many were read from a shared chapter's folder."""
        text = provenance(records, self.chapter.name, self.profile, self.chapter.reports_time)
        if self.chapter.reuses:
            shared = [r for r in records.values() if not (self.out_dir / r.run_id).exists()]
            from .chapters import chapter

            names = " and ".join(chapter(name).called for name in self.chapter.reuses)
            text += f" {len(shared)} of the runs are {names}'s records (the same configs), read from its folder."
        return text

    def claims_summary(self, claims: Sequence[Claim], paper: str, length: str, note: str = "") -> str:
        """One Markdown sentence: at this profile (dataset, model, ``length``, seeds), how many of
        paper ``paper``'s claims each verdict got, raw and after Holm's adjustment over them, then ``note``."""
        import pandas as pd

        from .chapters.claims import adjusted_verdicts

        def counted(verdicts: Sequence[str]) -> str:
            return ", ".join(f"{n} {v}" for v, n in pd.Series(list(verdicts), dtype=object).value_counts().items())

        settings = self.settings
        return (
            f"**At profile `{self.profile}`** ({settings.dataset}, {settings.model}, {length}, {len(settings.seeds)} "
            f"seed(s)): {counted([c.verdict for c in claims])} of paper {paper}'s claims; after Holm's adjustment "
            f"over them, {counted(adjusted_verdicts(claims))}. " + note
        )


#: the caveat a chapter's claims carry at the CPU-sized profiles
SMALLER_SETTING = (
    "These runs differ from the paper's in dataset, model and length, so a disagreement is a finding about "
    "this smaller setting, not a refutation of the paper."
)


def readable(name: str, value: Any) -> str:
    """A setting as a reader wants it: fractions as %, numbers without float tails, lists and
    dicts as plain text, None as "—"."""
    if value is None:
        return "—"
    if isinstance(value, bool) or isinstance(value, str):
        return str(value)
    if isinstance(value, float) and ("fraction" in name or "share" in name):
        return f"{100 * value:.3g} %"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {readable(str(k), v)}" for k, v in value.items()) or "—"
    if isinstance(value, (list, tuple)):
        return ", ".join(readable(name, v) for v in value if v != {}) or "—"
    return str(value)


def claims_table(claims: Sequence[Claim], paper: str) -> Styler:
    """The claims as the book shows them: left-aligned, wrapped, no index."""
    from .chapters import claims_frame

    frame = claims_frame(claims, paper)
    return frame.style.set_properties(**{"text-align": "left", "white-space": "normal", "font-size": "9pt"}).hide(
        axis="index"
    )


# ----------------------------------------------------------------------------- the Colab bootstrap cell

ROOT = Path(__file__).resolve().parents[1]
BOOTSTRAP_TAG = "colab-bootstrap"


def repository_url(config: Path = ROOT / "_config.yml", key: str = "url") -> str:
    """The book's repository URL (or another ``key`` of it, e.g. ``branch``): ``repository:`` in
    ``_config.yml``, the one place it is kept."""
    match = re.search(rf"^repository:\s*\n(?:[ \t]+.*\n)*?[ \t]+{key}:\s*(\S+)", config.read_text(), re.MULTILINE)
    if match is None:
        raise ValueError(f"{config}: no 'repository: {key}:' entry")
    return match.group(1).strip("\"'")


def provenance(
    records: Mapping[Any, RunRecord], chapter: str, profile: str, timed: Callable[[Any], bool] | None = None
) -> str:
    """What a chapter's records cost and where they come from, as one Markdown paragraph: runs,
    run-hours, machine, commits, runs timed on a busy machine among those whose wall clock the
    page reports (``timed``, by key; default every run), and a link to the records in the book's
    repository."""
    if not records:
        return f"No records at profile `{profile}` yet."
    machine = next(iter(records.values())).machine
    hours = sum(r.counters.get("wall_s", 0.0) for r in records.values()) / 3600
    commits = sorted({r.commit[:10] for r in records.values()})
    shown = ", ".join(f"`{c}`" for c in commits[:3]) + (f" and {len(commits) - 3} more" if len(commits) > 3 else "")
    text = (
        f"**What these runs cost:** {len(records)} runs at profile `{profile}`, {hours:.2f} run-hours (evaluation "
        "included) "
        f"on {machine.get('device_name')} ({machine.get('device')}, {machine.get('torch_threads')} torch thread(s) "
        "per run, "
        f"torch {machine.get('torch')}), code at commit {shown}."
    )
    reported = {key: timed is None or timed(key) for key in records}
    busy = sum(r.timed_busy for key, r in records.items() if reported[key])
    untimed = sum(r.timed_busy for key, r in records.items() if not reported[key])
    if busy:
        text += (
            f" {busy} of the runs were timed while the machine was busy (load above its cores): wall-clock measures "
            f"leave those out, and `python -m lossprio.sweep {chapter} --profile {profile} --out … --retime-busy` "
            "reruns them."
        )
    if untimed:
        text += f" {untimed} runs whose wall clock the page does not report ran while the machine was busy."
    try:
        folder = f"{repository_url()}/tree/{repository_url(key='branch')}/results/{chapter}/{profile}"
    except (OSError, ValueError):  # an installed lossprio has no _config.yml beside it
        return text
    return text + f" The records, one `record.json` per run: [results/{chapter}/{profile}]({folder})."


def fold_injected_parameters(notebook: dict) -> dict:
    """The executed ``notebook`` with papermill's ``injected-parameters`` cell folded into its
    ``parameters`` cell: each injected value replaces the one assigned there (its comment kept),
    and the injected cell is removed. The page then shows one parameters cell holding the values
    it ran with, and a reader who edits it (on Colab) runs what they edited, not an injected
    override below it."""
    cells = notebook["cells"]
    tagged = {tag: i for i, c in enumerate(cells) for tag in c.get("metadata", {}).get("tags", [])}
    if "injected-parameters" not in tagged:
        return notebook
    if "parameters" not in tagged:
        raise ValueError("the notebook has injected parameters but no cell tagged 'parameters' to fold them into")
    injected = "".join(cells[tagged["injected-parameters"]]["source"])
    values = {
        node.targets[0].id: ast.get_source_segment(injected, node.value)
        for node in ast.parse(injected).body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }
    cell = cells[tagged["parameters"]]
    source = "".join(cell["source"])
    lines = source.split("\n")
    for node in reversed(ast.parse(source).body):  # from the end, so earlier offsets stay valid
        name = node.targets[0].id if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) else None
        if name in values and node.lineno == node.end_lineno:
            line = lines[node.lineno - 1]
            start, end = node.value.col_offset, node.value.end_col_offset  # byte offsets: ASCII names before
            encoded = line.encode()
            lines[node.lineno - 1] = (encoded[:start] + values.pop(name).encode() + encoded[end:]).decode()
    while lines and not lines[-1].strip():
        lines.pop()
    lines += [f"{name} = {value}" for name, value in values.items()]  # injected names the cell did not assign
    cell["source"] = "\n".join(lines).splitlines(keepends=True)
    del cells[tagged["injected-parameters"]]
    return notebook


def bootstrap_source(url: str) -> str:
    """The first code cell of every chapter notebook: on Colab, install lossprio from ``url``
    (only if it is missing); then open the :class:`ParameterGuard`."""
    return (
        "# Colab: install lossprio into the session (does nothing anywhere else).\n"
        "import importlib.util, subprocess, sys\n"
        'if "google.colab" in sys.modules and importlib.util.find_spec("lossprio") is None:\n'
        f'    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "git+{url}"], check=True)\n'
        "\n"
        "from lossprio.notebook import ParameterGuard\n"
        "_guard = ParameterGuard(globals())  # parameters must be declared ones (see the cell after them)"
    )


def bootstrap_cell(notebook: dict) -> dict:
    """The notebook's bootstrap cell (tagged ``colab-bootstrap``); ``ValueError`` if it has none."""
    for cell in notebook["cells"]:
        if BOOTSTRAP_TAG in cell.get("metadata", {}).get("tags", []):
            return cell
    raise ValueError(f"no cell tagged {BOOTSTRAP_TAG!r}")


def sync_bootstrap(notebooks: Iterable[Path], url: str) -> list[Path]:
    """Rewrite each notebook's bootstrap cell for ``url``; returns the notebooks that changed."""
    changed = []
    for path in notebooks:
        notebook = json.loads(path.read_text())
        cell = bootstrap_cell(notebook)
        source = bootstrap_source(url)
        if "".join(cell["source"]) != source:
            cell["source"] = source.splitlines(keepends=True)
            path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
            changed.append(path)
    return changed


@command
def main(argv: list[str] | None = None) -> None:
    """``python -m lossprio.notebook sync``: write _config.yml's repository URL into every notebook's
    bootstrap cell (then ``make reproduce`` carries it into the book's executed copies)."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("action", choices=["sync"])
    parser.parse_args(argv)
    url = repository_url()
    changed = sync_bootstrap(sorted((ROOT / "notebooks").glob("*.ipynb")), url)
    print(f"{len(changed)} notebook(s) now install from {url}: {[str(p.relative_to(ROOT)) for p in changed]}")


if __name__ == "__main__":
    main()
