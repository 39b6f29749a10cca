"""Regenerates ``noukai_sdk_generated/`` from ``openapi.yaml`` (``python -m generator [--check]``)."""
