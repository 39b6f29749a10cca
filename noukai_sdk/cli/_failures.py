"""Turn every way a command can end badly into one line on stderr and a documented exit status.

Commands raise; this module decides what the user reads. ``--debug`` adds the traceback, with the
API key and anything shaped like one redacted.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any

from noukai_sdk.cli import _exit_codes
from noukai_sdk.cli._redaction import redact

# Third-party modules an optional feature needs, and the extra that installs them.
_EXTRA_FOR_MODULE = {
    "starlette": "devserver",
    "uvicorn": "devserver",
    "yaml": "devserver",
    "rich": "cli",
}


class CommandError(Exception):
    """A failure the command already put in the user's terms, with its exit status."""

    def __init__(self, message: str, exit_code: int = _exit_codes.USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def run_command(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run ``handler(args)``; failures become one stderr line and their exit status."""
    try:
        return handler(args)
    except KeyboardInterrupt:
        _write_line("\nnoukai: interrupted")
        return _exit_codes.INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``noukai … | head``): stop quietly and let Python not complain.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return _exit_codes.OK
    except Exception as exc:
        exit_code, line = describe(exc, args)
        if getattr(args, "debug", False):
            _write_line(redact("".join(traceback.format_exception(exc)), _secrets(args)).rstrip())
        elif exit_code == _exit_codes.INTERNAL:
            line += " (run with --debug for the traceback)"
        _write_line(f"{_program(args)}: {redact(line, _secrets(args))}")
        return exit_code


def describe(exc: BaseException, args: argparse.Namespace) -> tuple[int, str]:
    """The exit status and the one-line explanation for ``exc``."""
    if isinstance(exc, CommandError):
        return exc.exit_code, exc.message
    import noukai_sdk

    if isinstance(exc, noukai_sdk.NoukaiError):
        return _describe_api_error(exc, args)
    if isinstance(exc, ModuleNotFoundError):
        return _describe_missing_module(exc)
    if isinstance(exc, (ValueError, TypeError)):
        return _exit_codes.USAGE, str(exc)
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return _exit_codes.USAGE, f"{where}{exc.strerror or exc}"
    return _exit_codes.INTERNAL, f"unexpected {type(exc).__name__}: {exc}"


def _describe_api_error(exc: Any, args: argparse.Namespace) -> tuple[int, str]:
    import noukai_sdk

    message: str = exc.message
    url = getattr(args, "base_url", None) or "the API"
    if isinstance(exc, noukai_sdk.APITimeoutError):
        return _exit_codes.CONNECTION, f"timed out waiting for {url}: {message}"
    if isinstance(exc, noukai_sdk.StreamInterruptedError):
        return _exit_codes.CONNECTION, f"the stream from {url} was cut short: {message}"
    if isinstance(exc, noukai_sdk.APIConnectionError):
        hint = ""
        if url.startswith(("http://localhost", "http://127.0.0.1")):
            hint = " (is `noukai dev-server` running there? see --dev-port / NOUKAI_DEV_PORT)"
        return _exit_codes.CONNECTION, f"could not connect to {url}: {message}{hint}"
    status = exc.status_code
    if isinstance(exc, noukai_sdk.AuthenticationError):
        if status is None and message.startswith("No API key"):
            return _exit_codes.USAGE, (
                "No API key provided: pass --api-key or set NOUKAI_API_KEY "
                "(against a local dev server, --env dev uses its default key)"
            )
        if status is None:
            return _exit_codes.USAGE, f"{message} (from --api-key or NOUKAI_API_KEY)"
        return _exit_codes.API_ERROR, (
            f"the API refused the key (401): {message} — check --api-key or NOUKAI_API_KEY"
        )
    if isinstance(exc, noukai_sdk.FlowNotFoundError):
        return _exit_codes.API_ERROR, (
            f"not found (404): {message} — check the org/project/slug (or --org/--project)"
        )
    if isinstance(exc, noukai_sdk.PermissionDeniedError):
        return _exit_codes.API_ERROR, f"permission denied (403): {message}"
    if isinstance(exc, noukai_sdk.InsufficientCreditsError):
        return _exit_codes.API_ERROR, f"insufficient credits (402): {message}"
    if isinstance(exc, noukai_sdk.RateLimitError):
        after = exc.retry_after
        wait = f"; retry after {after:g}s" if after is not None else ""
        return _exit_codes.API_ERROR, f"rate limited (429): {message}{wait}"
    where = f" ({status})" if status is not None else ""
    return _exit_codes.API_ERROR, f"{type(exc).__name__}{where}: {message}"


def _describe_missing_module(exc: ModuleNotFoundError) -> tuple[int, str]:
    top = (exc.name or "").split(".")[0]
    extra = _EXTRA_FOR_MODULE.get(top)
    if extra is None:
        return _exit_codes.INTERNAL, f"missing module {exc.name!r}: {exc}"
    return _exit_codes.USAGE, (
        f"this command needs the '{extra}' extra: pip install 'noukai-sdk[{extra}]'"
    )


def _secrets(args: argparse.Namespace) -> tuple[str, ...]:
    return tuple(
        value
        for value in (getattr(args, "api_key", None), os.environ.get("NOUKAI_API_KEY"))
        if value
    )


def _program(args: argparse.Namespace) -> str:
    name = getattr(args, "command_name", None)
    return f"noukai {name}" if name else "noukai"


def _write_line(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()
