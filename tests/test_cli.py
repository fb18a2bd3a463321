"""The command lines a newcomer meets first: named as they are run, every option explained with its
default, help without torch, refusals in one line and a hint, and a status that says what to do."""

import json
import subprocess
import sys

import pytest

from lossprio import chapters, cli, launch, reproduce, sweep, tuning
from lossprio.sweep import run_all

from .test_train import small_config

COMMANDS = {"lossprio.sweep": sweep.build_parser, "lossprio.reproduce": reproduce.build_parser}


@pytest.mark.parametrize("module", sorted(COMMANDS))
def test_help_names_the_command_as_it_is_run_and_explains_every_option(module):
    parser = COMMANDS[module]()
    text = parser.format_help()
    assert text.startswith(f"usage: python -m {module} ")
    for action in parser._actions:
        assert action.help, action.dest
        if action.option_strings and action.default not in (None, False) and action.dest != "help":
            assert "default" in parser.formatter_class("x")._get_help_string(action), action.dest


@pytest.mark.parametrize("module", [*sorted(COMMANDS), "lossprio.tuning"])
def test_help_answers_without_importing_torch(module):
    found = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", module, "--help"], capture_output=True, text=True, timeout=120
    )
    assert found.returncode == 0, found.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in found.stderr.splitlines() if line.startswith("import time:")}
    assert "torch" not in imported and "papermill" not in imported


def test_the_light_lists_are_the_registries():
    assert cli.chapter_modules() == sorted(chapters.chapter_names() + chapters.draft_names())
    assert launch.LAUNCHERS == cli.LAUNCHERS and cli.PROFILE_NAMES is chapters.PROFILE_NAMES
    assert tuning.__doc__ and "results/tuned/tuned_lrs.json" in tuning.__doc__


def test_a_refusal_is_one_line_and_a_hint_without_the_usage(capsys):
    with pytest.raises(SystemExit) as stop:
        sweep.main(["tunde", "--out", "x"])
    err = capsys.readouterr().err.strip().splitlines()
    assert stop.value.code == 2 and len(err) == 2 and "usage" not in "\n".join(err)
    assert err[0].startswith("python -m lossprio.sweep: error: argument chapter: invalid choice: 'tunde'")
    assert err[1].strip() == "(all options: python -m lossprio.sweep --help)"


def test_status_is_a_table_naming_what_is_unfinished_and_how_to_resume(tmp_path, capsys):
    out = tmp_path / "hu2021" / "smoke"
    configs = chapters.chapter("hu2021").runs("smoke")
    first = next(iter(configs))
    run_all(configs, out, progress=False, only=[first])
    sweep.main(["hu2021", "--profile", "smoke", "--out", str(out), "--status"])
    text = capsys.readouterr().out
    assert "state" in text and "finished  1" in text and f"missing   {len(configs) - 1}" in text
    assert configs[next(k for k in configs if k != first)].run_id in text
    assert f"resume them with: python -m lossprio.sweep hu2021 --profile smoke --out {out}" in text
    sweep.main(["hu2021", "--profile", "smoke", "--out", str(out), "--status", "--json"])
    found = json.loads(capsys.readouterr().out)
    assert found["counts"] == {"finished": 1, "missing": len(configs) - 1}
    assert found["resume"].startswith("python -m lossprio.sweep hu2021") and len(found["runs"]) == len(configs)


def test_a_sweep_outside_the_books_layout_writes_only_under_out(tmp_path):
    out = tmp_path / "x" / "m" / "smoke"
    config = small_config("rho", epochs=1)
    from lossprio.layout import shared_cache_dir

    assert shared_cache_dir(out, "mindermann2022") == out / "cache"
    assert shared_cache_dir(tmp_path / "mindermann2022" / "smoke", "mindermann2022") == tmp_path / "cache"
    run_all({"rho": config}, out, progress=False, cache_dir=shared_cache_dir(out, "mindermann2022"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x"] and list((out / "cache").glob("il-*.pt"))
