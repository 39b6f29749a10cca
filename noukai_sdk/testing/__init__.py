"""Pytest helpers for code that uses noukai-sdk (cassettes, a dev-server fixture)."""
