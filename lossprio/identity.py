"""Run identity: a config's hash (and so its run id) by frozen, per-format rules.

Record format 3 hashes only the settings a run's selector reads, so a setting one selector never
reads (an IL model's, say) does not change the id of another's runs. Which selector reads what is
kept here as data, per format, never derived from live selector classes: renaming a class or
changing what it declares cannot move a committed run's id (``tests/test_run_ids.py`` pins the
ids of every committed record).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any


def config_hash(values: dict[str, Any]) -> str:
    """SHA-256 hex digest of a config's settings (``TrainConfig.to_dict()`` or a record's
    ``config``), leaving out those its selector never reads (:func:`read_settings`)."""
    return hashlib.sha256(json.dumps(read_settings(values), sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class HashRules:
    """How one record format turns a config into its hash: which settings each selector leaves
    unread. Frozen as data per format, never derived from live selector classes, so renaming a
    selector class or changing what it declares cannot move a committed run's id.

    Attributes:
        il_settings: settings of the irreducible-loss (IL) model and its holdout.
        il_readers: selectors that read them (they train or load an IL model).
        proxy_settings: settings of SVP's proxy model and core-set.
        proxy_readers: selectors that read those.
        known: every selector this format knows; an unknown one may read anything, so its
            configs hash every setting.
        neutral: settings added after the format, at the value that does what runs did before
            they existed; at that value they stay out of the hash.
        il_readers_when: selectors that read the IL settings only with some of their settings
            (``selector_kwargs``), by selector: those settings and values.
    """

    il_settings: tuple[str, ...]
    il_readers: tuple[str, ...]
    proxy_settings: tuple[str, ...]
    proxy_readers: tuple[str, ...]
    known: tuple[str, ...]
    neutral: dict[str, Any]
    il_readers_when: dict[str, dict[str, Any]] = field(default_factory=dict)

    def reads_il(self, values: dict[str, Any]) -> bool:
        """Whether the config ``values`` reads the IL settings."""
        selector = values.get("selector")
        if selector not in self.known or selector in self.il_readers:
            return True
        when = self.il_readers_when.get(selector)
        given = values.get("selector_kwargs") or {}
        return when is not None and all(given.get(k) == v for k, v in when.items())

    def read_settings(self, values: dict[str, Any]) -> dict[str, Any]:
        """``values`` without the settings its selector never reads and without later settings
        left at their neutral value."""
        selector = values.get("selector")
        unread = set(self.il_settings + self.proxy_settings)
        if self.reads_il(values):
            unread -= set(self.il_settings)
        if selector not in self.known or selector in self.proxy_readers:
            unread -= set(self.proxy_settings)
        unread |= {
            k for k, neutral in self.neutral.items() if k in values and list_form(values[k]) == list_form(neutral)
        }
        return {k: v for k, v in values.items() if k not in unread}


#: the hash rules of each record format that hashes selectively (formats 1 and 2 hashed every setting)
HASH_RULES: dict[int, HashRules] = {
    3: HashRules(
        il_settings=(
            "corrupt_holdout",
            "il_model",
            "il_model_kwargs",
            "il_epochs",
            "il_holdout",
            "il_holdout_fraction",
            "il_checkpoint",  # (added with the setting)
        ),
        il_readers=("irreducible", "rho", "sb_rho"),
        proxy_settings=("il_model", "il_model_kwargs", "svp_fraction", "svp_proxy_epochs"),
        proxy_readers=("svp",),
        known=(
            "grad_norm",
            "grad_norm_is",
            "infobatch",  # (added with the selector; no earlier config names it)
            "irreducible",
            "kath18",
            "loss",
            "rho",
            "rs2",  # (added with the selector)
            "sb",
            "sb_rho",
            "sbe",
            "stale_sb",
            "svp",
            "uniform",
        ),
        neutral={
            "relevant_classes": (),
            "score_probe_every": None,
            "il_model_kwargs": {},
            "eval_first": None,
            "lr_schedule": "step",
            "validation_fraction": 0.0,
            "evaluate_on": "test",
            "il_checkpoint": "validation",
            "label_smoothing": 0.0,
        },
        # SVP's proxy is the IL model itself with proxy="holdout" (added with that setting; no
        # earlier config sets it, so no earlier id moves)
        il_readers_when={"svp": {"proxy": "holdout"}},
    ),
}
#: the format whose rules new runs hash by
HASH_FORMAT = 3


def read_settings(values: dict[str, Any], format: int = HASH_FORMAT) -> dict[str, Any]:
    """``values`` as record format ``format`` hashes them (:class:`HashRules`): without the
    settings its selector never reads, so that changing, say, the IL model's default leaves the
    ids (and records) of runs that train no IL model as they were."""
    return HASH_RULES[format].read_settings(values)


def list_form(value: Any) -> Any:
    """Tuples as lists, as a config reads back from JSON."""
    return list(value) if isinstance(value, tuple) else value
