"""Run ids cannot drift: every committed record's id and config hash come out of its config as
they were written, and the frozen hash rules agree with what the selectors declare."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from lossprio import selectors
from lossprio.config import TrainConfig
from lossprio.identity import HASH_FORMAT, HASH_RULES, config_hash

RESULTS = Path(__file__).resolve().parents[1] / "results"
COMMITTED = sorted(RESULTS.glob("*/*/*/record.json"))


def test_there_are_committed_records_to_pin():
    assert len(COMMITTED) >= 640


def drifted(paths: list[Path]) -> list[str]:
    """The records among ``paths`` whose config no longer gives their run id and config hash."""
    found = []
    for path in paths:
        values = json.loads(path.read_text())
        try:
            config = TrainConfig.from_dict(values["config"])
        except ValueError as problem:
            found.append(f"{path.relative_to(RESULTS)}: {problem}")
            continue
        ids = (config.run_id, config.config_hash, config_hash(values["config"]), path.parent.name)
        if ids != (values["run_id"], values["config_hash"], values["config_hash"], values["run_id"]):
            found.append(f"{path.relative_to(RESULTS)}: now {ids[0]}")
    return found


def test_every_committed_record_keeps_its_run_id_and_config_hash():
    orphaned = drifted(COMMITTED)
    assert not orphaned, f"{len(orphaned)} committed records would be orphaned:\n" + "\n".join(orphaned[:20])


def test_hash_rules_know_every_registered_selector_and_what_it_reads():
    rules = HASH_RULES[HASH_FORMAT]
    assert sorted(rules.known) == selectors.selector_names(), "a new selector: add it to the hash rules' data"
    reads_il = sorted(
        n for n in selectors.selector_names() if "irreducible_loss" in selectors.selector_class(n).requires
    )
    assert sorted(rules.il_readers) == reads_il
    assert sorted(rules.proxy_readers) == sorted(
        n for n in selectors.selector_names() if selectors.selector_class(n).trains_proxy
    )


def test_a_setting_a_selector_never_reads_leaves_its_run_id_alone():
    base = TrainConfig(selector="sb", selector_kwargs={"beta": 1.0})
    assert TrainConfig(selector="sb", selector_kwargs={"beta": 1.0}, il_epochs=3).run_id == base.run_id
    assert (
        TrainConfig(selector="rho", selector_kwargs={"keep": 8}, candidate_batch=64, split="half", il_epochs=3).run_id
        != TrainConfig(selector="rho", selector_kwargs={"keep": 8}, candidate_batch=64, split="half").run_id
    )


def records_of(selector: str) -> list[Path]:
    return [p for p in COMMITTED if json.loads(p.read_text())["config"]["selector"] == selector]


def test_renaming_a_selector_orphans_its_records_and_the_pin_says_so(monkeypatch):
    factories = dict(selectors.SELECTORS._factories)
    factories["rho_loss"] = factories.pop("rho")
    monkeypatch.setattr(selectors.SELECTORS, "_factories", factories)
    rho = records_of("rho")
    assert rho and len(drifted(rho)) == len(rho)


def test_changing_the_frozen_rules_orphans_records_and_the_pin_says_so(monkeypatch):
    rules = HASH_RULES[HASH_FORMAT]
    monkeypatch.setitem(HASH_RULES, HASH_FORMAT, dataclasses.replace(rules, il_readers=("irreducible", "sb_rho")))
    rho = records_of("rho")
    assert rho and len(drifted(rho)) == len(rho)
    assert not drifted(records_of("sb")[:5])
