"""The API key never shows, even when a server echoes it JSON-escaped: not in error messages, not in
``response_body``, not in the raw body of ``APIResponseValidationError``, not in log events."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
import respx
from client_helpers import BASE, KEY, Kind, make_client, resolve

from noukai_sdk import APIResponseValidationError, AuthenticationError, NoukaiError

EXECUTE = "/seq/o/p/s/execute"


def escaped(text: str, every: int = 1) -> str:
    """``text`` with every ``every``-th character written as a JSON ``\\uXXXX`` escape."""
    return "".join(
        f"\\u{ord(char):04x}" if index % every == 0 else char for index, char in enumerate(text)
    )


SPELLINGS = [KEY, escaped(KEY), escaped(KEY, every=3), escaped(KEY).upper().replace("\\U", "\\u")]


def shown(error: NoukaiError, events: list[dict[str, Any]]) -> list[str]:
    """Every place the caller can read the error or the log from, as text and as raw bytes."""
    texts = [str(error), repr(error), repr(error.args), repr(error.response_body), repr(events)]
    texts.append(json.dumps(error.response_body, ensure_ascii=False))
    raw = getattr(error, "raw_body", b"")
    texts.append(raw.decode("utf-8", "replace"))
    return texts


def leaked(texts: list[str]) -> bool:
    """Whether the key can be read in any of ``texts``, once JSON escapes are decoded."""

    def unescape(text: str) -> str:
        return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)

    return any(KEY in text or KEY in unescape(text) for text in texts)


def call(kind: Kind, response: httpx.Response) -> tuple[NoukaiError, list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []
    client = make_client(kind, log_handler=events.append, log_payloads=True, max_retries=0)
    with respx.mock(base_url=BASE) as mock:
        mock.post(EXECUTE).mock(return_value=response)
        with pytest.raises(NoukaiError) as caught:
            resolve(client.flow("o/p/s").execute("hi"))
    return caught.value, events


@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_an_error_body_echoing_the_key_in_any_spelling_is_masked(kind: Kind, spelling: str) -> None:
    body = ('{"detail": "bad key Bearer ' + spelling + '"}').encode()
    response = httpx.Response(401, content=body, headers={"content-type": "application/json"})
    error, events = call(kind, response)
    assert isinstance(error, AuthenticationError)
    assert not leaked(shown(error, events))
    assert "nk_***" in str(error)


@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_success_body_that_does_not_validate_is_masked_in_the_raw_body(
    kind: Kind, spelling: str
) -> None:
    body = ('{"status": "completed", "result": "key was ' + spelling + '"}').encode()
    response = httpx.Response(200, content=body, headers={"content-type": "application/json"})
    error, events = call(kind, response)
    assert isinstance(error, APIResponseValidationError)
    assert error.raw_body and b"nk_***" in error.raw_body
    assert not leaked(shown(error, events))
