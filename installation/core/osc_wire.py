"""A bounded OSC 1.0 datagram parser: every step consumes bytes, so no datagram can make it loop or recurse deep.

`parse_datagram(data)` returns the messages of one datagram (a message, or a bundle of messages and bundles,
time tags ignored) or raises `FramingError` with the reason. It is what the control server uses instead of
python-osc's parser, whose bundle reader loops for ever on an element size that is negative or points backwards.

Refused: datagrams over `MAX_DATAGRAM` bytes; bundle elements whose size is not positive, not a multiple of 4 or
larger than what is left; bundles nested deeper than `MAX_DEPTH`; more than `MAX_MESSAGES` messages in one
datagram; strings without their terminating zero or not UTF-8; blobs longer than what is left; arrays not
closed or nested deeper than `MAX_DEPTH`; type tags other than i h f d s S c b r m t T F N [ ].
Cost: O(len(data)) for any input (each element, string and argument is read once, by `bytes.find` or a slice).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

MAX_DATAGRAM = 8192  # bytes; larger datagrams are dropped and counted (no rig needs more for this surface)
MAX_DEPTH = 8  # bundles inside bundles, and arrays inside arrays
MAX_MESSAGES = 128  # messages in one datagram (a bundle may hold many; each becomes work for the show)
BUNDLE = b"#bundle\x00"

_FIXED = {"i": (">i", 4), "f": (">f", 4), "h": (">q", 8), "d": (">d", 8), "t": (">Q", 8), "r": (">I", 4)}
_NO_DATA = {"T": True, "F": False, "N": None}


class FramingError(ValueError):
    """A datagram that is not well-formed OSC; the message is the reason (one short line)."""


@dataclass(frozen=True)
class Message:
    address: str
    args: tuple[Any, ...]


def parse_datagram(data: bytes) -> list[Message]:
    """The messages in one OSC datagram, in order; raises FramingError for anything malformed or over a bound."""
    if len(data) > MAX_DATAGRAM:
        raise FramingError(f"datagram of {len(data)} bytes is over the {MAX_DATAGRAM}-byte limit")
    out: list[Message] = []
    _element(bytes(data), 0, len(data), 0, out)
    return out


def _element(data: bytes, start: int, end: int, depth: int, out: list[Message]) -> None:
    if data.startswith(BUNDLE, start):
        _bundle(data, start, end, depth, out)
    elif start < end and data[start] == 0x2F:  # "/"
        if len(out) >= MAX_MESSAGES:
            raise FramingError(f"more than {MAX_MESSAGES} messages in one datagram")
        out.append(_message(data, start, end))
    else:
        raise FramingError("not an OSC message (starts with '/') or bundle ('#bundle')")


def _bundle(data: bytes, start: int, end: int, depth: int, out: list[Message]) -> None:
    if depth >= MAX_DEPTH:
        raise FramingError(f"bundles nested deeper than {MAX_DEPTH}")
    i = start + len(BUNDLE) + 8  # the time tag is not waited for
    if i > end:
        raise FramingError("bundle shorter than its header and time tag")
    while i < end:
        if end - i < 4:
            raise FramingError("bundle element size cut short")
        (size,) = struct.unpack_from(">i", data, i)
        i += 4
        if size <= 0 or size % 4:
            raise FramingError(f"bundle element size {size} is not a positive multiple of 4")
        if size > end - i:
            raise FramingError(f"bundle element size {size} is larger than the {end - i} bytes left")
        _element(data, i, i + size, depth + 1, out)
        i += size


def _string(data: bytes, i: int, end: int, what: str) -> tuple[str, int]:
    zero = data.find(b"\x00", i, end)
    if zero < 0:
        raise FramingError(f"{what} has no terminating zero byte")
    nxt = i + ((zero - i) // 4 + 1) * 4
    if nxt > end:
        raise FramingError(f"{what} padding runs past the end")
    try:
        return data[i:zero].decode("utf-8"), nxt
    except UnicodeDecodeError:
        raise FramingError(f"{what} is not UTF-8") from None


def _message(data: bytes, start: int, end: int) -> Message:
    address, i = _string(data, start, end, "address")
    if i >= end:
        return Message(address, ())  # no type tag string: a message without arguments (OSC 1.0 allows it)
    tags, i = _string(data, i, end, "type tag string")
    if not tags.startswith(","):
        raise FramingError("type tag string does not start with ','")
    args: list[Any] = []
    stack = [args]
    for tag in tags[1:]:
        value: Any
        if tag in _FIXED:
            fmt, n = _FIXED[tag]
            if end - i < n:
                raise FramingError(f"argument '{tag}' cut short")
            (value,) = struct.unpack_from(fmt, data, i)
            i += n
        elif tag in ("s", "S"):
            value, i = _string(data, i, end, "string argument")
        elif tag == "c":
            if end - i < 4:
                raise FramingError("argument 'c' cut short")
            (code,) = struct.unpack_from(">I", data, i)
            if code > 0x10FFFF:
                raise FramingError("argument 'c' is not a character")
            value, i = chr(code), i + 4
        elif tag == "m":
            if end - i < 4:
                raise FramingError("argument 'm' cut short")
            value, i = tuple(data[i : i + 4]), i + 4
        elif tag == "b":
            value, i = _blob(data, i, end)
        elif tag in _NO_DATA:
            value = _NO_DATA[tag]
        elif tag == "[":
            if len(stack) > MAX_DEPTH:
                raise FramingError(f"arrays nested deeper than {MAX_DEPTH}")
            inner: list[Any] = []
            stack[-1].append(inner)
            stack.append(inner)
            continue
        elif tag == "]":
            if len(stack) < 2:
                raise FramingError("array closed that was not opened")
            stack.pop()
            continue
        else:
            raise FramingError(f"unsupported type tag {tag!r}")
        stack[-1].append(value)
    if len(stack) != 1:
        raise FramingError("array not closed")
    return Message(address, tuple(args))


def _blob(data: bytes, i: int, end: int) -> tuple[bytes, int]:
    if end - i < 4:
        raise FramingError("blob size cut short")
    (size,) = struct.unpack_from(">i", data, i)
    i += 4
    padded = size + (-size % 4)
    if size < 0 or padded > end - i:
        raise FramingError(f"blob size {size} does not fit the {end - i} bytes left")
    return data[i : i + size], i + padded
