"""Matching: prefilter on keywords, then each selected rule's regex (no I/O here)."""
from .matcher import Engine, EngineResult

__all__ = ["Engine", "EngineResult"]
