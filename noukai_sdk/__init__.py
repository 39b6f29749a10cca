"""Noukai SDK."""
from noukai_sdk._version import __version__

__all__ = ["__version__"]
