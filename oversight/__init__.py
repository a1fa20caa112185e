"""agent-oversight: intercept, record, score and gate every step of an AI research agent."""

from oversight._version import __version__

__all__ = ["__version__"]
