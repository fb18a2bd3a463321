"""The book's chapters, one module each: settings at the ``smoke`` / ``cpu`` / ``paper``
profiles, the runs they expand to, tables and claim checks, written in the vocabulary of
:mod:`~lossprio.chapters.kit`. Every module in this folder but the kit's own is a chapter and is
imported here (registering itself); ``chapter(name)`` finds one."""

import importlib
import pkgutil

from ..cli import CHAPTER_KIT as KIT
from ..cli import PROFILE_NAMES
from .base import CHAPTERS, DRAFTS, Chapter, book_order, chapter, chapter_names, draft_names
from .claims import Claim, claims_frame

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _module not in KIT:
        importlib.import_module(f"{__name__}.{_module}")

__all__ = [
    "CHAPTERS",
    "DRAFTS",
    "KIT",
    "PROFILE_NAMES",
    "Chapter",
    "Claim",
    "book_order",
    "chapter",
    "chapter_names",
    "claims_frame",
    "draft_names",
]
