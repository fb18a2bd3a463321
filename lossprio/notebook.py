"""Helpers for the chapter notebooks: papermill parameters that are checked, not silently ignored.

papermill injects ``-p name value`` pairs as a cell after the ``parameters`` cell and only
warns about names the notebook does not declare, so ``-p profil cpu`` would run the notebook at
its default size. A notebook therefore opens a :class:`ParameterGuard` in a (hidden) cell before
its ``parameters`` cell and calls :meth:`ParameterGuard.check` in the first cell after it.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping


class ParameterGuard:
    """Remembers the names a notebook's namespace held before its parameters were set."""

    def __init__(self, namespace: Mapping[str, Any]) -> None:
        self.before = set(namespace)

    def check(self, namespace: Mapping[str, Any], declared: Iterable[str]) -> None:
        """``ValueError`` naming every new variable that is not a declared parameter (IPython's
        ``_``-prefixed history names are ignored)."""
        declared = set(declared)
        unknown = sorted(n for n in set(namespace) - self.before - declared if not n.startswith("_"))
        if unknown:
            raise ValueError(f"unknown notebook parameter(s) {unknown}; this notebook takes {sorted(declared)}")
