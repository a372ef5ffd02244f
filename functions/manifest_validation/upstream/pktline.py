"""pkt-line framing and side-band demultiplexing (gitprotocol-common, gitprotocol-pack).

Every message of the smart protocol is a sequence of pkt-lines: four hex digits of
length (including themselves) then the payload; ``0000`` (flush), ``0001`` (delim,
v2) and ``0002`` (response-end, v2) carry no payload.  Responses are parsed from a
fully received (size-capped) body, so a body that ends in the middle of a packet, or
before the packet that must close it, is reported as :class:`TruncatedResponse` and
the request is retried.
"""

from __future__ import annotations

from enum import Enum

from .transport import TruncatedResponse

__all__ = [
    "CONTROL",
    "Kind",
    "NotOurRef",
    "PktReader",
    "ServerError",
    "demux_sideband",
    "encode",
    "packet_length",
]

FLUSH = b"0000"
DELIM = b"0001"
MAX_PKT_PAYLOAD = 65516


class ServerError(Exception):
    """The server sent ``ERR <message>`` or a fatal side-band message."""


class NotOurRef(ServerError):
    """``ERR upload-pack: not our ref <oid>``: the object is missing, or (v0, and
    servers without ``allowAnySHA1InWant``) exists but is not reachable from a ref."""


class Kind(Enum):
    DATA = "data"
    FLUSH = "flush"
    DELIM = "delim"
    RESPONSE_END = "response-end"
    EOF = "eof"


def encode(line: str | bytes) -> bytes:
    """Frame one payload as a pkt-line."""
    data = line.encode() if isinstance(line, str) else line
    if len(data) > MAX_PKT_PAYLOAD:
        raise ValueError("pkt-line payload too long")
    return b"%04x" % (len(data) + 4) + data


def packet_length(header: bytes) -> int:
    """The length a pkt-line's 4-byte header announces (0, 1 and 2 are the flush, delimiter
    and response-end packets, which `CONTROL` names; any other is at least 4)."""
    if len(header) < 4:
        raise TruncatedResponse("pkt-line header cut short")
    try:
        length = int(header, 16)
    except ValueError:
        raise ServerError("response is not in pkt-line format") from None
    if 2 < length < 4:
        raise ServerError("invalid pkt-line length")
    return length


# the kind of a packet whose length is 0, 1 or 2
CONTROL = (Kind.FLUSH, Kind.DELIM, Kind.RESPONSE_END)


class PktReader:
    """Sequential reader over a received body."""

    def __init__(self, data: bytes, offset: int = 0) -> None:
        self._data = data
        self.offset = offset

    def at_eof(self) -> bool:
        return self.offset >= len(self._data)

    def rest(self) -> bytes:
        """Unframed remainder (a raw pack after the v0 ACK lines without side-band)."""
        return self._data[self.offset :]

    def peek_raw(self, size: int) -> bytes:
        return self._data[self.offset : self.offset + size]

    def read(self) -> tuple[Kind, bytes]:
        if self.at_eof():
            return Kind.EOF, b""
        length = packet_length(self._data[self.offset : self.offset + 4])
        if length < 4:
            self.offset += 4
            return CONTROL[length], b""
        payload = self._data[self.offset + 4 : self.offset + length]
        if len(payload) < length - 4:
            raise TruncatedResponse("pkt-line payload cut short")
        self.offset += length
        if payload.startswith(b"ERR "):
            message = payload[4:].decode("utf-8", "replace").strip()
            raise (NotOurRef if "not our ref" in message else ServerError)(message)
        return Kind.DATA, payload

    def read_text(self) -> tuple[Kind, str]:
        """Like :meth:`read` for text lines (trailing LF stripped)."""
        kind, payload = self.read()
        return kind, payload.decode("utf-8", "replace").rstrip("\n")


def demux_sideband(reader: PktReader) -> bytes:
    """Collect band 1 (pack data) until flush; skip band 2, raise on band 3.

    The flush that ends the side-band stream is how we know the pack arrived whole.
    """
    out = bytearray()
    while True:
        kind, payload = reader.read()
        if kind is Kind.FLUSH:
            return bytes(out)
        if kind is Kind.EOF:
            raise TruncatedResponse("side-band stream ended without flush")
        if kind is not Kind.DATA or not payload:
            raise ServerError("unexpected packet in side-band stream")
        band = payload[0]
        if band == 1:
            out += payload[1:]
        elif band == 3:
            raise ServerError(payload[1:].decode("utf-8", "replace").strip())
        elif band != 2:
            raise ServerError(f"unknown side-band channel {band}")
