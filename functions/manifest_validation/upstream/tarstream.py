"""The bytes Go's ``archive/tar`` writer produces for bashbrew's scrubbed headers.

bashbrew's build-context checksum (``ArchGitChecksum``) is the sha256 of a tar stream
written by Go's ``archive/tar`` from headers that carry only a type, a name, a link
name, a size and a mode (``tarscrub.ScrubHeader``): uid and gid 0, no user or group
names, a zero modification time (written as 0, the Unix epoch), no device numbers.
Reproducing the checksum means reproducing those bytes exactly, so this module
follows the writer's rules as Go's source states them (``writer.go``, ``common.go``,
``format.go``, ``strconv.go`` of ``src/archive/tar``):

* **Format choice** (``Header.allowedFormats``, then ``Writer.WriteHeader``): USTAR
  when every field fits it, else PAX (GNU would come third, but with these fields PAX
  can always encode what USTAR cannot).  The name may exceed 100 bytes in USTAR only
  if it is ASCII and can be split into a prefix (at most 155 bytes) and a name (at
  most 100) at a ``/``; a link name must be ASCII and at most 100 bytes; a size must
  fit 11 octal digits (below 8 GiB).
* **USTAR split** (``splitUSTARPath``): at the *last* ``/`` among the first 156 bytes
  (for a shorter name ending in ``/``, that slash itself is not a candidate).  Python's
  ``tarfile`` splits at the *first* workable ``/`` instead, so the two disagree when
  several splits work.
* **Numeric fields** (``formatOctal``): octal, zero-padded to the field's width minus
  one, then a NUL.  The checksum field is six octal digits, a NUL and a space,
  computed over the block with that field as eight spaces (``setFormat``).
* **Magic**: ``"ustar\\x00"`` and version ``"00"``, for USTAR and PAX headers alike.
* **PAX** (``writePAXHeader``): one extended header (type ``x``) named
  ``path.Join(dir, "PaxHeaders.0", file)`` of the real name (ASCII only, cut to 100
  bytes, trailing ``/`` removed), with zero mode, ids, mtime, and *empty* device
  fields (``writeRawFile`` sets fewer fields than the main header), holding the
  records ``"%d %s=%s\\n"`` sorted by key; then the main header with every string made
  ASCII and cut to its field (``formatString``; a cut that leaves a trailing ``/`` in
  the field ends it with a NUL before those slashes instead), no prefix.
* **Data** padded with NULs to 512 bytes; bashbrew flushes the writer instead of
  closing it, so no end-of-archive blocks follow the last entry.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BLOCK_SIZE",
    "TYPE_DIR",
    "TYPE_REG",
    "TYPE_SYMLINK",
    "TarEntry",
    "Unarchivable",
    "entry_header",
    "go_path_clean",
    "padding",
]

BLOCK_SIZE = 512
TYPE_REG = b"0"
TYPE_SYMLINK = b"2"
TYPE_DIR = b"5"
_TYPE_PAX = b"x"
_NAME_SIZE = 100
_PREFIX_SIZE = 155
# Go refuses a PAX extended header bigger than this (``maxSpecialFileSize``).
_MAX_SPECIAL_FILE_SIZE = 1 << 20
_MAGIC = b"ustar\x00"
_VERSION = b"00"

# Field offsets and widths of a USTAR header block (format.go, headerV7/headerUSTAR).
_NAME = (0, 100)
_MODE = (100, 8)
_UID = (108, 8)
_GID = (116, 8)
_SIZE = (124, 12)
_MTIME = (136, 12)
_CHKSUM = (148, 8)
_TYPEFLAG = 156
_LINKNAME = (157, 100)
_MAGIC_AT = 257
_VERSION_AT = 263
_DEVMAJOR = (329, 8)
_DEVMINOR = (337, 8)
_PREFIX = (345, 155)


class Unarchivable(ValueError):
    """Go's tar writer refuses this header (bashbrew then fails, with no checksum)."""


@dataclass(frozen=True, slots=True)
class TarEntry:
    """One scrubbed header: ``name`` as written (a directory's ends with ``/``),
    ``typeflag`` one of the ``TYPE_*`` values, ``mode`` the permission bits only."""

    name: bytes
    typeflag: bytes
    mode: int
    size: int = 0
    linkname: bytes = b""


def padding(size: int) -> bytes:
    """The NULs that pad ``size`` bytes of data to a whole block."""
    return b"\x00" * (-size % BLOCK_SIZE)


def entry_header(entry: TarEntry) -> bytes:
    """Every byte Go writes for ``entry`` before its data: the USTAR header block, or
    the PAX extended header (block, records, padding) followed by the main block."""
    pax: dict[bytes, bytes] = {}
    ustar = True
    name, linkname = entry.name, entry.linkname
    # Header.allowedFormats, for the fields a scrubbed header can carry.
    if not _is_ascii(name) or len(name) > _NAME_SIZE:
        if _split_ustar_path(name) is None:
            ustar = False
        pax[b"path"] = name
    if not _is_ascii(linkname) or len(linkname) > _NAME_SIZE:
        ustar = False  # a link name is never split
        pax[b"linkpath"] = linkname
    if not _fits_octal(12, entry.size):
        ustar = False
        pax[b"size"] = str(entry.size).encode("ascii")
    if entry.typeflag == TYPE_REG and name.endswith(b"/"):
        raise Unarchivable("a regular file's name may not end with '/'")
    for key in (b"path", b"linkpath"):
        if b"\x00" in pax.get(key, b""):
            raise Unarchivable(f"a {key.decode()} holding NUL cannot be encoded")
    if ustar:
        return _ustar_block(entry)
    return _pax_headers(entry, pax)


def _ustar_block(entry: TarEntry) -> bytes:
    block = bytearray(BLOCK_SIZE)
    name, prefix = entry.name, b""
    split = _split_ustar_path(entry.name)
    if split is not None:
        prefix, name = split
    _template(block, entry, name)
    _put_string(block, _PREFIX, prefix)
    return _finish(block)


def _pax_headers(entry: TarEntry, records: dict[bytes, bytes]) -> bytes:
    data = b"".join(_pax_record(key, records[key]) for key in sorted(records))
    if len(data) > _MAX_SPECIAL_FILE_SIZE:
        raise Unarchivable("the PAX extended header would exceed 1 MiB")
    directory, file = _split(entry.name)
    special = _to_ascii(_join(directory, b"PaxHeaders.0", file))[:_NAME_SIZE].rstrip(b"/")
    # writeRawFile: name, zero mode/uid/gid/mtime, size; devices and names left NUL.
    extended = bytearray(BLOCK_SIZE)
    _put_string(extended, _NAME, special)
    for field in (_MODE, _UID, _GID, _MTIME):
        _put_octal(extended, field, 0)
    _put_octal(extended, _SIZE, len(data))
    extended[_TYPEFLAG] = _TYPE_PAX[0]
    main = bytearray(BLOCK_SIZE)
    _template(main, entry, _to_ascii(entry.name), ascii_only=True)
    return _finish(extended) + data + padding(len(data)) + _finish(main)


def _template(block: bytearray, entry: TarEntry, name: bytes, *, ascii_only: bool = False) -> None:
    """templateV7Plus: the fields every main header carries.  In PAX headers strings
    go through toASCII first and numbers that do not fit are written as 0."""
    linkname = _to_ascii(entry.linkname) if ascii_only else entry.linkname
    block[_TYPEFLAG] = entry.typeflag[0]
    _put_string(block, _NAME, name)
    _put_string(block, _LINKNAME, linkname)
    _put_octal(block, _MODE, entry.mode)
    _put_octal(block, _UID, 0)
    _put_octal(block, _GID, 0)
    _put_octal(block, _SIZE, entry.size)
    _put_octal(block, _MTIME, 0)  # a zero ModTime is written as the Unix epoch
    # Uname and Gname are empty: their fields stay NUL.
    _put_octal(block, _DEVMAJOR, 0)
    _put_octal(block, _DEVMINOR, 0)


def _finish(block: bytearray) -> bytes:
    """setFormat(USTAR or PAX): magic, version, then the checksum."""
    block[_MAGIC_AT : _MAGIC_AT + 6] = _MAGIC
    block[_VERSION_AT : _VERSION_AT + 2] = _VERSION
    start, width = _CHKSUM
    block[start : start + width] = b" " * width
    checksum = sum(block)  # unsigned bytes, the field counted as spaces
    block[start : start + 7] = b"%06o\x00" % checksum
    block[start + 7] = ord(" ")
    return bytes(block)


def _put_string(block: bytearray, field: tuple[int, int], value: bytes) -> None:
    """formatString: copy what fits, NUL-terminate when there is room; when the cut
    leaves a ``/`` in the last byte, end the field before the trailing slashes."""
    start, width = field
    cut = value[:width]
    block[start : start + len(cut)] = cut
    if len(value) < width:
        block[start + len(value)] = 0
    if len(value) > width and cut.endswith(b"/"):
        block[start + len(cut.rstrip(b"/"))] = 0


def _put_octal(block: bytearray, field: tuple[int, int], value: int) -> None:
    """formatOctal: zero-padded octal leaving room for a NUL; 0 when it does not fit."""
    width = field[1]
    if not _fits_octal(width, value):
        value = 0
    _put_string(block, field, b"%0*o" % (width - 1, value))


def _fits_octal(width: int, value: int) -> bool:
    return value >= 0 and (width >= 22 or value < 1 << ((width - 1) * 3))


def _pax_record(key: bytes, value: bytes) -> bytes:
    """formatPAXRecord: ``"<length> key=value\\n"`` where the length counts itself."""
    size = len(key) + len(value) + 3
    size += len(str(size))
    record = b"%d %s=%s\n" % (size, key, value)
    if len(record) != size:
        record = b"%d %s=%s\n" % (len(record), key, value)
    return record


def _is_ascii(value: bytes) -> bool:
    """isASCII: no NUL and nothing at or above 0x80 (Go decodes runes; every byte of a
    multi-byte or invalid sequence is at or above 0x80, so bytes suffice)."""
    return all(0 < byte < 0x80 for byte in value)


def _to_ascii(value: bytes) -> bytes:
    """toASCII: drop every rune at or above 0x80 and NUL; byte-wise for the same reason."""
    if _is_ascii(value):
        return value
    return bytes(byte for byte in value if 0 < byte < 0x80)


def _split_ustar_path(name: bytes) -> tuple[bytes, bytes] | None:
    """splitUSTARPath: (prefix, name) or None when USTAR cannot hold the name."""
    length = len(name)
    if length <= _NAME_SIZE or not _is_ascii(name):
        return None
    if length > _PREFIX_SIZE + 1:
        length = _PREFIX_SIZE + 1
    elif name[length - 1 : length] == b"/":
        length -= 1
    index = name.rfind(b"/", 0, length)
    suffix_length = len(name) - index - 1
    if index <= 0 or suffix_length > _NAME_SIZE or suffix_length == 0 or index > _PREFIX_SIZE:
        return None
    return name[:index], name[index + 1 :]


def _split(name: bytes) -> tuple[bytes, bytes]:
    """Go's path.Split: everything up to and including the last slash, and the rest."""
    index = name.rfind(b"/")
    return name[: index + 1], name[index + 1 :]


def _join(*parts: bytes) -> bytes:
    """Go's path.Join: the non-empty parts joined by slashes, then cleaned."""
    kept = [part for part in parts if part]
    return go_path_clean(b"/".join(kept)) if kept else b""


def go_path_clean(path: bytes) -> bytes:
    """Go's path.Clean: the shortest equivalent slash-separated path."""
    if not path:
        return b"."
    rooted = path.startswith(b"/")
    parts: list[bytes] = []
    for part in path.split(b"/"):
        if part in (b"", b"."):
            continue
        if part == b"..":
            if parts and parts[-1] != b"..":
                parts.pop()
            elif not rooted:
                parts.append(b"..")
            continue
        parts.append(part)
    cleaned = b"/".join(parts)
    if rooted:
        return b"/" + cleaned
    return cleaned or b"."
