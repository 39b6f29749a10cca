"""An incremental, sans-IO decoder for ``text/event-stream`` bodies (the WHATWG SSE format).

Bytes go in with :meth:`SSEDecoder.feed`, complete events come out; nothing here does I/O, so the
sync and async streams share it. It follows the WHATWG "event stream interpretation" rules: LF, CR
and CRLF line ends (also when a CR ends one chunk and its LF starts the next), one optional space
after the colon, ``event``/``data``/``id``/``retry`` fields, comments, fields without a colon and a
leading byte-order mark.

Performance: bytes are searched for line ends only while their own chunk is processed (a partial
line is kept aside and never searched again, the idea of h11's receive buffer), so one large event
arriving in many small chunks costs linear time; memory is bounded by ``max_event_bytes``. Event
data stays ``bytes`` (checked to be UTF-8) so the typed layer can validate it straight from bytes
with pydantic.

End of stream: when the body ends after one or more complete ``data:`` lines but without the blank
line that should dispatch them, :meth:`SSEDecoder.end` dispatches that event anyway (0.2.0 dropped
it, losing the last event). Only a final line that never received its line end is discarded, as it
cannot be told apart from a connection cut in the middle of a line. (The WHATWG rules discard both;
dispatching the complete-lines case is the more useful choice for a server that forgets the final blank line.)
"""

from __future__ import annotations

from dataclasses import dataclass

from noukai_sdk._core.errors import APIResponseValidationError

DEFAULT_MAX_EVENT_BYTES = 64 * 1024 * 1024
"""Largest event (data bytes plus a pending partial line) the decoder buffers before giving up."""

_BOM = b"\xef\xbb\xbf"
_MAX_REMEMBERED_NAMES = 64


class EventStreamDecodeError(APIResponseValidationError):
    """The server sent an event stream the decoder cannot accept (invalid UTF-8, an oversized event)."""


@dataclass(slots=True)
class ServerSentEvent:
    """One dispatched event: its ``event`` name (``""`` when none was sent), raw ``data`` bytes
    (data lines joined with LF), the last event ``id`` seen so far and the ``retry`` delay in
    milliseconds, if this event set one."""

    event: str
    data: bytes
    id: str = ""
    retry: int | None = None


class SSEDecoder:
    """Turns chunks of an event-stream body into :class:`ServerSentEvent` objects."""

    __slots__ = (
        "_after_cr",
        "_at_start",
        "_data",
        "_data_size",
        "_event",
        "_event_names",
        "_last_event_id",
        "_max_event_bytes",
        "_more_data",
        "_partial",
        "_retry",
    )

    def __init__(self, *, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        if max_event_bytes <= 0:
            raise ValueError("max_event_bytes must be a positive number of bytes")
        self._max_event_bytes = max_event_bytes
        self._partial = bytearray()  # bytes of an unfinished line; never contains a line end
        self._after_cr = False  # the previous chunk ended with CR: a leading LF belongs to it
        self._at_start = True  # nothing decoded yet: a BOM may still arrive
        self._event = ""
        self._event_names: dict[bytes, str] = {}  # whole "event: x" lines seen -> decoded name
        self._data: bytes | None = None  # first data line of the pending event
        self._more_data: list[bytes] | None = None  # further data lines, rarely used
        self._data_size = 0
        self._last_event_id = ""
        self._retry: int | None = None

    @property
    def last_event_id(self) -> str:
        """The last ``id`` field seen (the WHATWG "last event ID"; it persists across events)."""
        return self._last_event_id

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode ``chunk`` and return the events it completes (often none, sometimes many)."""
        if self._at_start:
            chunk = self._strip_bom(chunk)
        if not chunk:
            return []
        if self._after_cr:
            self._after_cr = False
            if chunk[0] == 0x0A:
                chunk = chunk[1:]
        if b"\r" in chunk:
            self._after_cr = chunk[-1] == 0x0D
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")

        events: list[ServerSentEvent] = []
        partial = self._partial
        if partial:
            end = chunk.find(b"\n")
            if end < 0:
                partial += chunk
                if len(partial) + self._data_size > self._max_event_bytes:
                    self._check_size(len(partial))
                return events
            partial += chunk[:end]
            lines = chunk[end + 1 :].split(b"\n")
            if self._data is None and partial.startswith(b"data: "):
                # A long data line: copy it out of the buffer once, without the field name.
                self._data_size = len(partial) - 5
                self._check_size(0)
                with memoryview(partial) as view:
                    self._data = bytes(view[6:])
            else:
                lines.insert(0, bytes(partial))
            partial.clear()
        else:
            lines = chunk.split(b"\n")
        tail = lines.pop()
        names = self._event_names
        for line in lines:
            # Fast paths for the lines nearly every stream consists of; the rest goes the long way.
            if not line:
                if self._data is not None:
                    events.append(self._dispatch())
                else:
                    self._event = ""
                    self._retry = None
            elif self._data is None and line.startswith(b"data: "):
                self._data_size = len(line) - 5
                if self._data_size > self._max_event_bytes:
                    self._check_size(0)
                self._data = line[6:]
            elif line in names:
                self._event = names[line]
            else:
                self._process_line(line, events)
        if tail:
            partial += tail
            self._check_size(len(partial))
        return events

    def end(self) -> list[ServerSentEvent]:
        """Finish the stream: dispatch a pending event whose lines were all terminated.

        A trailing line without a line end is discarded (see the module docstring).
        """
        self._partial.clear()
        events: list[ServerSentEvent] = []
        self._process_line(b"", events)
        return events

    # --- internals ------------------------------------------------------------------------------

    def _process_line(self, line: bytes, events: list[ServerSentEvent]) -> None:
        if not line:
            if self._data is not None:
                events.append(self._dispatch())
            else:
                self._event = ""
                self._retry = None
            return
        if line.startswith(b"data:"):
            value = line[6:] if line.startswith(b" ", 5) else line[5:]
            self._add_data(value)
            return
        colon = line.find(b":")
        if colon == 0:
            return  # a comment, e.g. a heartbeat
        if colon < 0:
            name, value = line, b""
        else:
            name = line[:colon]
            start = colon + 2 if line.startswith(b" ", colon + 1) else colon + 1
            value = line[start:]
        if name == b"event":
            self._event = _decode_text(value, "an event name")
            if len(self._event_names) < _MAX_REMEMBERED_NAMES:
                self._event_names[line] = self._event
        elif name == b"data":
            self._add_data(value)
        elif name == b"id":
            if b"\x00" not in value:
                self._last_event_id = _decode_text(value, "an event id")
        elif name == b"retry" and value.isdigit():
            self._retry = int(value)
        # Any other field name is ignored, as the WHATWG rules require.

    def _add_data(self, value: bytes) -> None:
        self._data_size += len(value) + 1
        self._check_size(self._data_size)
        if self._data is None:
            self._data = value
        elif self._more_data is None:
            self._more_data = [value]
        else:
            self._more_data.append(value)

    def _dispatch(self) -> ServerSentEvent:
        data = self._data
        assert data is not None
        if self._more_data is not None:
            data = b"\n".join([data, *self._more_data])
        if not data.isascii():
            _decode_text(data, "event data")
        event = ServerSentEvent(self._event, data, self._last_event_id, self._retry)
        self._event = ""
        self._data = self._more_data = None
        self._data_size = 0
        self._retry = None
        return event

    def _check_size(self, pending: int) -> None:
        if pending + self._data_size > self._max_event_bytes:
            raise EventStreamDecodeError(
                f"Server-sent event larger than {self._max_event_bytes} bytes; "
                "the stream was abandoned to keep memory bounded",
                raw_body=b"",
            )

    def _strip_bom(self, chunk: bytes) -> bytes:
        """Remove a UTF-8 byte-order mark at the very start, even when it is split over chunks."""
        head = bytes(self._partial) + chunk
        if len(head) < len(_BOM) and _BOM.startswith(head):
            self._partial = bytearray(head)  # not enough bytes yet to decide
            return b""
        self._partial = bytearray()
        self._at_start = False
        return head[len(_BOM) :] if head.startswith(_BOM) else head


def _decode_text(value: bytes, what: str) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EventStreamDecodeError(
            f"The server sent {what} that is not valid UTF-8 "
            f"(byte {exc.start}: {value[exc.start : exc.start + 1]!r})",
            raw_body=value[:1024],
        ) from None
