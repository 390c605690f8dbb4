"""Storage backends: the ``Backend`` contract and the in-memory reference backend."""

from __future__ import annotations

from .base import CAPABILITIES, Backend
from .inmemory import InMemoryBackend

__all__ = ["CAPABILITIES", "Backend", "InMemoryBackend"]
