"""The event-stream decoder follows the WHATWG rules, whatever the chunking."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from noukai_sdk._core.sse import EventStreamDecodeError, ServerSentEvent, SSEDecoder


def decode(*chunks: bytes, max_event_bytes: int | None = None) -> list[ServerSentEvent]:
    decoder = (
        SSEDecoder() if max_event_bytes is None else SSEDecoder(max_event_bytes=max_event_bytes)
    )
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.end())
    return events


def pairs(events: list[ServerSentEvent]) -> list[tuple[str, bytes]]:
    return [(e.event, e.data) for e in events]


@pytest.mark.parametrize("line_end", [b"\n", b"\r", b"\r\n"])
def test_every_line_end_style_frames_events(line_end: bytes) -> None:
    body = line_end.join([b"event: a", b"data: 1", b"", b"data: 2", b"", b""])
    assert pairs(decode(body)) == [("a", b"1"), ("", b"2")]


def test_mixed_line_ends_in_one_stream() -> None:
    assert pairs(decode(b"data: 1\r\n\ndata: 2\r\rdata: 3\n\r\n")) == [
        ("", b"1"),
        ("", b"2"),
        ("", b"3"),
    ]


def test_cr_at_chunk_end_and_lf_in_next_chunk_is_one_line_end() -> None:
    # Were the LF a second line end, the blank line would dispatch "1" alone.
    events = decode(b"data: 1\r", b"\ndata: 2\r", b"\n\r", b"\n")
    assert pairs(events) == [("", b"1\n2")]


def test_cr_then_cr_across_chunks_is_two_line_ends() -> None:
    assert pairs(decode(b"data: 1\r", b"\r")) == [("", b"1")]


def test_only_one_space_after_the_colon_is_removed() -> None:
    assert pairs(decode(b"data:x\n\ndata: x\n\ndata:  x\n\n")) == [
        ("", b"x"),
        ("", b"x"),
        ("", b" x"),
    ]


def test_several_data_lines_are_joined_with_lf() -> None:
    assert pairs(decode(b'data: {"a":\ndata:  1}\n\n')) == [("", b'{"a":\n 1}')]


def test_empty_data_line_dispatches_empty_data() -> None:
    assert pairs(decode(b"data\n\ndata:\n\n")) == [("", b""), ("", b"")]


def test_block_without_data_dispatches_nothing_and_forgets_its_event_name() -> None:
    assert pairs(decode(b"event: lost\n\ndata: 1\n\n")) == [("", b"1")]


def test_comments_and_unknown_fields_are_ignored() -> None:
    body = b": heartbeat\nfoo: bar\nDATA: upper-case is another field\nevent: e\ndata: 1\n\n"
    assert pairs(decode(body)) == [("e", b"1")]


def test_field_without_colon_has_an_empty_value() -> None:
    assert pairs(decode(b"event\ndata: 1\n\n")) == [("", b"1")]


def test_last_event_name_wins_and_keeps_trailing_spaces() -> None:
    assert pairs(decode(b"event: a\nevent: b \ndata: 1\n\n")) == [("b ", b"1")]


def test_ids_persist_across_events_and_ids_with_nul_are_ignored() -> None:
    events = decode(b"id: 7\ndata: a\n\ndata: b\n\nid: x\x00y\ndata: c\n\nid\ndata: d\n\n")
    assert [e.id for e in events] == ["7", "7", "7", ""]


def test_last_event_id_is_exposed_by_the_decoder() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"id: 42\n\n")
    assert decoder.last_event_id == "42"


def test_retry_is_kept_only_when_all_digits() -> None:
    events = decode(b"retry: 1500\ndata: a\n\nretry: 1.5\ndata: b\n\nretry:\ndata: c\n\n")
    assert [e.retry for e in events] == [1500, None, None]


def test_byte_order_mark_at_stream_start_is_skipped_even_when_split() -> None:
    assert pairs(decode(b"\xef\xbb", b"\xbfdata: 1\n\n")) == [("", b"1")]
    assert pairs(decode(b"\xef\xbb\xbfevent: e\ndata: 1\n\n")) == [("e", b"1")]


def test_byte_order_mark_later_in_the_stream_is_data() -> None:
    assert pairs(decode(b"data: 1\n\n\xef\xbb\xbfdata: 2\n\n")) == [("", b"1")]


def test_many_frames_in_one_chunk_and_one_frame_over_many_chunks() -> None:
    body = b"".join(b"event: e\ndata: %d\n\n" % i for i in range(100))
    assert [e.data for e in decode(body)] == [b"%d" % i for i in range(100)]
    assert [e.data for e in decode(*(body[i : i + 1] for i in range(len(body))))] == [
        b"%d" % i for i in range(100)
    ]


def test_end_of_stream_dispatches_a_pending_event_with_complete_lines() -> None:
    assert pairs(decode(b"event: e\ndata: 1\n")) == [("e", b"1")]


def test_end_of_stream_discards_an_unterminated_line() -> None:
    assert pairs(decode(b'data: {"cut":')) == []
    assert pairs(decode(b"data: 1\ndata: 2")) == [("", b"1")]


def test_invalid_utf8_in_data_raises_a_clear_error() -> None:
    with pytest.raises(EventStreamDecodeError, match="not valid UTF-8"):
        decode(b'data: {"a": "\xff"}\n\n')


def test_invalid_utf8_in_event_name_raises() -> None:
    with pytest.raises(EventStreamDecodeError, match="event name"):
        decode(b"event: \xc3\x28\ndata: 1\n\n")


def test_valid_multibyte_utf8_split_between_chunks_is_fine() -> None:
    data = "é€😀".encode()
    body = b"data: " + data + b"\n\n"
    assert pairs(decode(body[:8], body[8:])) == [("", data)]


def test_a_4_mib_event_in_1_kib_chunks() -> None:
    payload = b'{"x": "' + b"a" * (4 * 1024 * 1024) + b'"}'
    body = b"event: big\ndata: " + payload + b"\n\n"
    chunks = [body[i : i + 1024] for i in range(0, len(body), 1024)]
    assert pairs(decode(*chunks)) == [("big", payload)]


def test_decoding_a_large_event_in_small_chunks_stays_linear() -> None:
    # A decoder that rescans or re-copies its buffer per chunk is ~1000x slower here (4096
    # chunks of a 4 MiB line); a linear one stays within a small factor of the one-chunk time.
    body = b"data: " + b"a" * (4 * 1024 * 1024) + b"\n\n"
    chunks = [body[i : i + 1024] for i in range(0, len(body), 1024)]

    def best_of_three(parts: list[bytes]) -> float:
        times: list[float] = []
        for _ in range(3):
            start = time.perf_counter()
            decode(*parts)
            times.append(time.perf_counter() - start)
        return min(times)

    assert best_of_three(chunks) < 50 * best_of_three([body]) + 0.05


def test_an_event_over_the_size_limit_raises_instead_of_growing() -> None:
    with pytest.raises(EventStreamDecodeError, match="larger than 1000 bytes"):
        decode(
            b"data: " + b"x" * 600 + b"\n", b"data: " + b"x" * 600 + b"\n\n", max_event_bytes=1000
        )
    with pytest.raises(EventStreamDecodeError):
        decode(*([b"x" * 100] * 20), max_event_bytes=1000)


def test_comments_do_not_accumulate_towards_the_limit() -> None:
    heartbeat = b": " + b"k" * 50 + b"\n"
    assert pairs(decode(heartbeat * 1000, b"data: 1\n\n", max_event_bytes=100)) == [("", b"1")]


# --- any chunking gives the same events ------------------------------------------------------

_line_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n"), max_size=12
)
_field = st.sampled_from(["data", "event", "id", "retry", "", "x"])
_line = st.one_of(
    st.builds("{}:{}".format, _field, _line_text),
    st.builds("{}: {}".format, _field, _line_text),
    _field,
    st.just(""),
)
_line_end = st.sampled_from(["\n", "\r", "\r\n"])
_stream = st.lists(st.tuples(_line, _line_end), max_size=30).map(
    lambda lines: "".join(line + end for line, end in lines).encode()
)


@settings(max_examples=300, deadline=None)
@given(body=_stream, cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=12))
def test_any_split_into_chunks_yields_the_same_events(body: bytes, cuts: list[int]) -> None:
    bounds = sorted({min(c, len(body)) for c in cuts})
    chunks = [body[a:b] for a, b in zip([0, *bounds], [*bounds, len(body)], strict=True)]
    assert decode(*chunks) == decode(body)
    assert decode(*(body[i : i + 1] for i in range(len(body)))) == decode(body)
