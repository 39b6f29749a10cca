"""Version of the noukai-sdk distribution."""

__version__ = "0.6.0"
