"""Pytest helpers for code that uses noukai-sdk: cassette replay and a dev-server fixture.

The plugin (:mod:`noukai_sdk.testing.plugin`) is registered automatically through the ``pytest11``
entry point once noukai-sdk is installed; see ``docs/replay.md``.
"""
