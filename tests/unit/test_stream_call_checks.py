"""steps()/events() check their arguments when called, before any request."""

from __future__ import annotations

import pytest
import respx

from noukai_sdk import AsyncNoukai, Noukai

KEY = "nk_test_call_checks"


@respx.mock(assert_all_called=False)
def test_a_session_id_that_cannot_be_a_header_fails_at_call_time() -> None:
    flow = Noukai(KEY).flow("o/p/s")
    with pytest.raises(ValueError):
        flow.events("hi", session_id="a\r\nX-Evil: 1")
    assert not respx.calls


@respx.mock(assert_all_called=False)
async def test_a_single_dict_for_tools_or_attachments_is_refused() -> None:
    flow = AsyncNoukai(KEY).flow("o/p/s")
    with pytest.raises(TypeError):
        flow.steps("hi", tools={"type": "function"})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        flow.events("hi", attachments={"url": "u"})  # type: ignore[arg-type]
    assert not respx.calls
