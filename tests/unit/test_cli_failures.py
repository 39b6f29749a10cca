"""Every way a ``noukai`` command ends badly gives one stderr line and its documented exit status."""

from __future__ import annotations

import argparse

import pytest

import noukai_sdk
from noukai_sdk.cli import _exit_codes
from noukai_sdk.cli._failures import CommandError, run_command


def args(**values: object) -> argparse.Namespace:
    return argparse.Namespace(command_name="run", debug=False, api_key=None, **values)


def fails_with(exc: BaseException):  # type: ignore[no-untyped-def]
    def handler(_: argparse.Namespace) -> int:
        raise exc

    return handler


@pytest.mark.parametrize(
    ("exc", "code", "line"),
    [
        (CommandError("bad --thing"), _exit_codes.USAGE, "noukai run: bad --thing"),
        (
            noukai_sdk.AuthenticationError(
                "No API key provided. Pass api_key= or set NOUKAI_API_KEY."
            ),
            _exit_codes.USAGE,
            "noukai run: No API key provided: pass --api-key or set NOUKAI_API_KEY",
        ),
        (
            noukai_sdk.AuthenticationError("Invalid API key.", status_code=401),
            _exit_codes.API_ERROR,
            "noukai run: the API refused the key (401)",
        ),
        (
            noukai_sdk.RateLimitError("Too many requests.", status_code=429, retry_after=2.0),
            _exit_codes.API_ERROR,
            "noukai run: rate limited (429): Too many requests.; retry after 2s",
        ),
        (
            noukai_sdk.FlowExecutionError("Bad gateway.", status_code=502),
            _exit_codes.API_ERROR,
            "noukai run: FlowExecutionError (502): Bad gateway.",
        ),
        (
            noukai_sdk.APITimeoutError("Request timed out."),
            _exit_codes.CONNECTION,
            "noukai run: timed out waiting for http://localhost:9/api/v1",
        ),
        (
            noukai_sdk.APIConnectionError("Connection refused", reached_server=False),
            _exit_codes.CONNECTION,
            "noukai run: could not connect to http://localhost:9/api/v1: Connection refused",
        ),
        (
            ModuleNotFoundError("No module named 'uvicorn'", name="uvicorn"),
            _exit_codes.USAGE,
            "noukai run: this command needs the 'devserver' extra: pip install 'noukai-sdk[devserver]'",
        ),
        (ValueError("Slug is empty."), _exit_codes.USAGE, "noukai run: Slug is empty."),
        (RuntimeError("boom"), _exit_codes.INTERNAL, "noukai run: unexpected RuntimeError: boom"),
    ],
)
def test_one_line_and_exit_status_per_kind(
    capsys: pytest.CaptureFixture[str], exc: BaseException, code: int, line: str
) -> None:
    status = run_command(fails_with(exc), args(base_url="http://localhost:9/api/v1"))
    err = capsys.readouterr().err
    assert status == code
    assert err.startswith(line)
    assert err.count("\n") == 1


def test_ctrl_c_exits_130_without_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_command(fails_with(KeyboardInterrupt()), args()) == _exit_codes.INTERRUPTED
    err = capsys.readouterr().err
    assert "interrupted" in err and "Traceback" not in err


def test_debug_adds_the_traceback_with_keys_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    secret = "nk_live_abcdef123456"
    error = noukai_sdk.FlowExecutionError(f"echoed {secret} and Bearer {secret}", status_code=500)
    options = argparse.Namespace(command_name="run", debug=True, api_key=secret)
    assert run_command(fails_with(error), options) == _exit_codes.API_ERROR
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert secret not in err and "[redacted]" in err
    assert err.splitlines()[-1].startswith("noukai run: FlowExecutionError (500)")
