"""Where CSV records begin and end (RFC 4180), in bytes, for events files and ledgers alike.

A double quote opens a quoted field only at the start of a field; inside an unquoted field it is
data (``T"1``), and after a closing quote the rest of the field up to the comma does not reopen
one. A quoted field may hold line breaks, so a record may span physical lines, but at most
:data:`CSV_MAX_RECORD_LINES` of them, and a record that spans lines must be a well-formed row of
the header's width. Otherwise the line that opened the quote is *unclosed* (rejected alone,
``csv_width``) and the lines after it are read as records of their own: a stray quote can hide
no line. The scan works on bytes: ``"``, ``,`` and LF are single bytes in UTF-8 and CP932 alike.
"""

from __future__ import annotations

import re

__all__ = ["CSV_MAX_RECORD_LINES", "SPAN_RECORD", "SPAN_UNCLOSED", "csv_spans", "normalise_record"]

#: A quoted CSV field may make a record span at most this many physical lines.
CSV_MAX_RECORD_LINES = 100
SPAN_RECORD = "record"  # a well-formed record over several lines
SPAN_UNCLOSED = "unclosed"  # one line whose quote does not close within the bound (or not into a row)

_CONTENT = rb'(?:[^"]|"")*+'  # inside quotes: anything but a lone quote (possessive: linear)
_FIELD = rb'(?:"' + _CONTENT + rb'"[^,]*|[^",][^,]*|)'  # a field followed by a comma (lenient after a close)
_OPEN = rb'(?:' + _FIELD + rb',)*+"' + _CONTENT  # fields, then a quote left open at the line end
#: A line that starts outside quotes and ends inside a quoted field.
_OPENS = re.compile(_OPEN)
#: A line that starts inside a quoted field and ends inside one (never closed, or closed and reopened).
_STAYS = re.compile(_CONTENT + rb'(?:"[^,]*,' + _OPEN + rb')?')
#: A well-formed record (the engine's CSV_RECORD_RE) and its fields.
_Q = rb'"' + _CONTENT + rb'"'
_U = rb'(?:[^,"][^,]*)?'
_RECORD = re.compile(rb'(?:' + _Q + rb'|' + _U + rb')(?:,(?:' + _Q + rb'|' + _U + rb'))*+')
_FIELDS = re.compile(rb',(' + _Q + rb'|[^,]*)')


def normalise_record(raw: bytes) -> bytes:
    """A record's bytes as the engine sees them: CRLF line ends as LF, no final line end."""
    if raw.endswith(b"\n"):
        raw = raw[:-1]
    raw = raw.replace(b"\r\n", b"\n")
    return raw[:-1] if raw.endswith(b"\r") else raw


def _row_of_width(raw: bytes, width: int | None) -> bool:
    rec = normalise_record(raw)
    if _RECORD.fullmatch(rec) is None:
        return False
    return width is None or len(_FIELDS.findall(b"," + rec)) == width


def csv_spans(
    data: bytes, *, width: int | None, final: bool, max_lines: int = CSV_MAX_RECORD_LINES
) -> tuple[list[tuple[int, int, str]], int]:
    """The records of ``data`` (line-aligned) that are not one simple line, and how much was decided.

    Returns ``(spans, used)``: ``spans`` are ``(start, end, kind)`` byte ranges (``end`` after the
    LF) of multi-line records (:data:`SPAN_RECORD`) and of unclosed lines (:data:`SPAN_UNCLOSED`),
    in order; every other line is a record of its own. ``used`` is where the undecided rest
    begins: a quote still open at the end of ``data`` within the bound; unless ``final``, the
    caller passes ``data[used:]`` again in front of the next bytes. ``width``: the header's
    number of columns (None: any width).
    """
    spans: list[tuple[int, int, str]] = []
    n = len(data)
    pos = 0
    while True:
        q = data.find(b'"', pos)
        if q < 0:
            return spans, n
        start = data.rfind(b"\n", 0, q) + 1
        end = data.find(b"\n", q)
        end = n if end < 0 else end + 1
        if _OPENS.fullmatch(data, start, end - 1 if data[end - 1 : end] == b"\n" else end) is None:
            pos = end
            continue
        cur, lines, closed = end, 1, -1
        while cur < n and lines < max_lines:
            nxt = data.find(b"\n", cur)
            nxt = n if nxt < 0 else nxt + 1
            lines += 1
            stop = nxt - 1 if data[nxt - 1 : nxt] == b"\n" else nxt
            if data.find(b'"', cur, stop) >= 0 and _STAYS.fullmatch(data, cur, stop) is None:
                closed = nxt
                break
            cur = nxt
        if closed < 0 and cur >= n and lines < max_lines and not final:
            return spans, start  # may close in the next bytes
        if closed >= 0 and _row_of_width(data[start:closed], width):
            spans.append((start, closed, SPAN_RECORD))
            pos = closed
        else:
            spans.append((start, end, SPAN_UNCLOSED))
            pos = end
