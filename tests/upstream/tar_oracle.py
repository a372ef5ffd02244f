"""An independent oracle for the tar headers bashbrew's Go writer produces.

Why it can be trusted: the blocks are laid out by Python's ``tarfile`` (a separate,
long-standing implementation of POSIX ustar: field offsets, octal numbers, magic,
checksum), not by :mod:`manifest_validation.upstream.tarstream`.  Only where Go's
writer deliberately differs from a plain ustar header is anything done by hand, each
time with the line of Go's ``archive/tar`` that says so:

* Device numbers: Go's main headers always carry them (``templateV7Plus`` formats
  ``Devmajor``/``Devminor``, 0 here, as ``"0000000\\0"``), while ``writeRawFile`` (the
  PAX extended header ``x``) never sets them, leaving NULs.  ``tarfile`` writes them
  for device entries only (since Python 3.x; earlier always), so both are set here
  explicitly and the checksum redone.
* ``writePAXHeader`` names that header ``path.Join(dir, "PaxHeaders.0", file)`` (ASCII
  only, cut to 100 bytes, trailing slashes trimmed); ``tarfile`` uses
  ``././@PaxHeader`` and adds records of its own, so its PAX format is not used: the
  records (``"%d key=value\\n"``, sorted by key) are written here.
* The main header of a PAX entry holds the name made ASCII and cut to 100 bytes
  (``formatString``); ``tarfile`` refuses such a name in ustar, so it is given the
  cut name.

* Where a long name has several workable ustar splits, ``tarfile`` takes the first
  slash that works and Go the last (``splitUSTARPath``: ``strings.LastIndex`` within
  the first 156 bytes; when that one does not work, none does): the block is laid out
  by ``tarfile`` with Go's name part, and the prefix field written by hand.  The unit
  tests check that choice field by field.
"""

from __future__ import annotations

import posixpath
import tarfile

__all__ = ["header", "pax_records", "ustar_splits"]

BLOCK = 512


def ustar_splits(name: bytes) -> list[int]:
    """Every slash at which ustar can split ``name`` (prefix <= 155, name <= 100)."""
    if len(name) <= 100:
        return []
    return [
        index
        for index, byte in enumerate(name)
        if byte == ord("/") and 0 < index <= 155 and 0 < len(name) - index - 1 <= 100
    ]


def pax_records(records: dict[bytes, bytes]) -> bytes:
    out = b""
    for key in sorted(records):
        body = b" " + key + b"=" + records[key] + b"\n"
        length = len(body) + 1
        while len(str(length)) + len(body) != length:
            length += 1
        out += str(length).encode() + body
    return out


def _block(info: tarfile.TarInfo) -> bytearray:
    return bytearray(info.tobuf(tarfile.USTAR_FORMAT, encoding="utf-8", errors="strict"))


def _main(block: bytearray) -> bytes:
    """A main header as Go writes it: device numbers formatted as octal zeros."""
    block[329:345] = b"0000000\x00" * 2
    return _rechecksum(block)


def _rechecksum(block: bytearray) -> bytes:
    block[148:156] = b" " * 8
    block[148:155] = b"%06o\x00" % sum(block)
    return bytes(block)


def _info(name: bytes, kind: bytes, mode: int, size: int, linkname: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name.decode("utf-8"))
    info.type = kind
    info.mode = mode
    info.size = size
    info.linkname = linkname.decode("utf-8")
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def header(name: bytes, kind: bytes, mode: int, size: int = 0, linkname: bytes = b"") -> bytes:
    """The expected header bytes of one entry (a directory's ``name`` ends in ``/``)."""
    ascii_name = all(0 < b < 0x80 for b in name)
    ascii_link = all(0 < b < 0x80 for b in linkname)
    splits = ustar_splits(name) if ascii_name else []
    name_fits = ascii_name and (len(name) <= 100 or bool(splits))
    if name_fits and ascii_link and len(linkname) <= 100 and size < 8**11:
        if len(splits) < 2:
            return _main(_block(_info(name, kind, mode, size, linkname)))
        at = max(splits)
        block = _block(_info(name[at + 1 :], kind, mode, size, linkname))
        block[345:500] = name[:at].ljust(155, b"\x00")
        return _main(block)
    records: dict[bytes, bytes] = {}
    if not ascii_name or len(name) > 100:
        records[b"path"] = name
    if not ascii_link or len(linkname) > 100:
        records[b"linkpath"] = linkname
    if size >= 8**11:
        records[b"size"] = str(size).encode()
        size = 0  # formatOctal writes 0 for what does not fit
    data = pax_records(records)
    directory, file = name.rsplit(b"/", 1) if b"/" in name else (b"", name)
    special = posixpath.normpath(posixpath.join(directory, b"PaxHeaders.0", file))
    special = bytes(b for b in special if 0 < b < 0x80)[:100].rstrip(b"/")
    extended = _block(_info(special, tarfile.XHDTYPE, 0, len(data), b""))
    extended[329:345] = b"\x00" * 16  # writeRawFile leaves devmajor/devminor unset
    main_name = bytes(b for b in name if 0 < b < 0x80)
    cut = main_name[:100]
    link = bytes(b for b in linkname if 0 < b < 0x80)[:100]
    # tarfile appends "/" to a directory's name, which Go does not do when the cut name
    # has no room for it: the block is laid out as a file's, then typed a directory.
    laid_out = tarfile.REGTYPE if kind == tarfile.DIRTYPE else kind
    main = _block(_info(cut, laid_out, mode, size, link))
    main[156] = kind[0]
    if len(main_name) > 100 and cut.endswith(b"/"):
        # formatString: a cut ending in "/" is NUL-terminated before those slashes.
        main[len(cut.rstrip(b"/"))] = 0
    main = bytearray(_main(main))
    padding = b"\x00" * (-len(data) % BLOCK)
    return _rechecksum(extended) + data + padding + bytes(main)
