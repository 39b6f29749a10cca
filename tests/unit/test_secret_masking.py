"""The API key never shows: not in a client's or flow's repr, results, error messages,
``response_body``, the raw body of ``APIResponseValidationError``, log events or URLs, even when a
server echoes it JSON-escaped."""

from __future__ import annotations

import json
import re
import warnings
from typing import Any

import httpx
import pytest
import respx
from client_helpers import BASE, KEY, Kind, completed, make_client, paused, resolve

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


OUTCOMES: list[tuple[str, str, httpx.Response | Exception]] = [
    ("completed", "post", httpx.Response(200, json=completed())),
    ("paused", "post", httpx.Response(200, json=paused())),
    (
        "401 echoing the key",
        "post",
        httpx.Response(
            401, json={"detail": f"bad key {KEY}"}, headers={"WWW-Authenticate": "Bearer"}
        ),
    ),
    ("429", "post", httpx.Response(429, json={"detail": "slow"}, headers={"Retry-After": "3"})),
    ("500 echoing the key", "post", httpx.Response(500, content=f"oops {KEY}".encode())),
    ("non-JSON 200", "post", httpx.Response(200, content=f"not json {KEY}".encode())),
    ("refused", "post", httpx.ConnectError(f"refused for Bearer {KEY}")),
    ("retried 503", "get", httpx.Response(503)),
    ("read timeout", "get", httpx.ReadTimeout("slow")),
]


@pytest.mark.parametrize(
    ("method", "outcome"),
    [(method, outcome) for _, method, outcome in OUTCOMES],
    ids=[name for name, _, _ in OUTCOMES],
)
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_the_key_never_shows_in_reprs_results_errors_log_events_or_urls(
    kind: Kind, method: str, outcome: httpx.Response | Exception
) -> None:
    seen: list[str] = []

    def record(value: Any) -> None:
        seen.extend([str(value), repr(value)])

    client = make_client(kind, log_handler=record, log_payloads=True, session_id="s")
    flow = client.flow("o/p/s")
    for value in (client, client._config, flow):
        record(value)
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(EXECUTE) if method == "post" else mock.get("/seq/o/p/s/runs/e1/trace")
        route.mock(side_effect=[outcome, outcome])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                record(resolve(flow.execute("hi") if method == "post" else flow.run("e1").trace()))
        except NoukaiError as error:
            record(error)
            record(error.args)
        for sent in route.calls:
            record(sent.request.url)
    assert route.called
    assert [text for text in seen if KEY in text] == []
