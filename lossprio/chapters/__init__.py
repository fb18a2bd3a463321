"""The book's chapters, one module each: settings at the ``smoke`` / ``cpu`` / ``paper``
profiles, the runs they expand to, tables and claim checks, written in the vocabulary of
:mod:`~lossprio.chapters.kit`. ``chapter(name)`` finds one."""
from . import crosspaper, hu2021, jiang2019, mindermann2022  # noqa: F401  (register the chapters)
from .base import CHAPTERS, PROFILE_NAMES, Chapter, chapter, chapter_names
from .claims import Claim, claims_frame

__all__ = ["CHAPTERS", "PROFILE_NAMES", "Chapter", "Claim", "chapter", "chapter_names", "claims_frame"]
