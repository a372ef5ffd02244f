"""The header bytes of :mod:`manifest_validation.upstream.tarstream` against an
independent oracle (Python's ``tarfile`` plus Go's documented deviations, see
``tar_oracle.py``), and by hand where the two implementations disagree on purpose.
Every stream is also read back by ``tarfile``, a reader that knows ustar and PAX."""

from __future__ import annotations

import io
import tarfile

import pytest

from manifest_validation.upstream.tarstream import (
    TYPE_DIR,
    TYPE_REG,
    TYPE_SYMLINK,
    TarEntry,
    Unarchivable,
    entry_header,
    go_path_clean,
    padding,
)

from .tar_oracle import header, ustar_splits


def read_back(*entries: tuple[TarEntry, bytes]) -> list[tarfile.TarInfo]:
    """Parse our stream (plus the end blocks bashbrew leaves out) with ``tarfile``."""
    stream = b"".join(entry_header(e) + data + padding(len(data)) for e, data in entries)
    assert len(stream) % 512 == 0
    with tarfile.open(fileobj=io.BytesIO(stream + b"\x00" * 1024), mode="r:") as archive:
        return archive.getmembers()


CASES = [
    TarEntry(b"Dockerfile", TYPE_REG, 0o664, 27),
    TarEntry(b"docker-entrypoint.sh", TYPE_REG, 0o775, 123456),
    TarEntry(b"sub/", TYPE_DIR, 0o775),
    TarEntry(b"sub/link", TYPE_SYMLINK, 0o777, 0, b"../Dockerfile"),
    TarEntry(b"n" * 100, TYPE_REG, 0o664, 1),  # exactly the field: no NUL after it
    TarEntry(b"d" * 99 + b"/", TYPE_DIR, 0o775),  # 100 with the slash: still USTAR
    # over 100 bytes, one workable split: ustar prefix and name
    TarEntry(b"p" * 60 + b"/" + b"q" * 60 + b"/" + b"r" * 60, TYPE_REG, 0o664, 5),
    # PAX: a name without a workable split, a non-ASCII name, a long link name
    TarEntry(b"f" * 150, TYPE_REG, 0o664, 3),
    TarEntry("caf\u00e9/na\u00efve.txt".encode(), TYPE_REG, 0o664, 4),
    TarEntry(b"link", TYPE_SYMLINK, 0o777, 0, b"t" * 120),
    TarEntry(b"x" * 170 + b"/", TYPE_DIR, 0o775),  # a PAX directory name, cut mid-name
]


@pytest.mark.parametrize("entry", CASES, ids=lambda e: e.name[:24].decode(errors="replace"))
def test_headers_equal_the_oracle(entry: TarEntry) -> None:
    assert entry_header(entry) == header(
        entry.name, entry.typeflag, entry.mode, entry.size, entry.linkname
    )


def test_every_case_reads_back_with_its_full_name_mode_and_link() -> None:
    members = read_back(*((e, b"z" * e.size if e.typeflag == TYPE_REG else b"") for e in CASES))
    assert [m.name.encode() for m in members] == [e.name.rstrip(b"/") for e in CASES]
    assert [m.mode for m in members] == [e.mode for e in CASES]
    assert [m.linkname.encode() for m in members] == [e.linkname for e in CASES]
    assert {(m.uid, m.gid, m.uname, m.gname, m.mtime) for m in members} == {(0, 0, "", "", 0)}


def test_go_splits_at_the_last_workable_slash_not_the_first() -> None:
    """splitUSTARPath: ``i := strings.LastIndex(name[:length], "/")``.  Python's tarfile
    takes the first slash that leaves at most 100 bytes, so the fields are checked by
    hand (the oracle applies Go's rule too), and tarfile still reads the name back."""
    name = b"p" * 10 + b"/" + b"q" * 10 + b"/" + b"r" * 85
    assert ustar_splits(name) == [10, 21]
    block = entry_header(TarEntry(name, TYPE_REG, 0o664, 0))
    assert len(block) == 512
    assert block[0:100] == b"r" * 85 + b"\x00" * 15
    assert block[345:500] == b"p" * 10 + b"/" + b"q" * 10 + b"\x00" * 134
    assert [m.name.encode() for m in read_back((TarEntry(name, TYPE_REG, 0o664, 0), b""))] == [name]


def test_a_directory_split_ignores_its_own_trailing_slash() -> None:
    """splitUSTARPath: for a name of at most 156 bytes ending in ``/``, that slash is
    not a split candidate (it would leave an empty name)."""
    name = b"a" * 50 + b"/" + b"b" * 60 + b"/"
    block = entry_header(TarEntry(name, TYPE_DIR, 0o775))
    assert block[0:100].rstrip(b"\x00") == b"b" * 60 + b"/"
    assert block[345:500].rstrip(b"\x00") == b"a" * 50


def test_a_header_block_field_by_field() -> None:
    """The layout Go writes, read off format.go and strconv.go by hand: octal fields
    zero-padded with a final NUL, checksum as six digits, NUL, space."""
    block = entry_header(TarEntry(b"run.sh", TYPE_REG, 0o775, 1000))
    assert block[0:7] == b"run.sh\x00"
    assert block[100:108] == b"0000775\x00"
    assert block[108:116] == block[116:124] == b"0000000\x00"
    assert block[124:136] == b"00000001750\x00"
    assert block[136:148] == b"00000000000\x00"
    assert block[154:156] == b"\x00 " and int(block[148:154], 8) == sum(
        block[:148] + b" " * 8 + block[156:]
    )
    assert block[156:157] == b"0"
    assert block[257:265] == b"ustar\x0000"
    assert block[265:329] == b"\x00" * 64  # no user or group names
    assert block[329:345] == b"0000000\x00" * 2
    assert block[345:] == b"\x00" * 167


def test_pax_layout_by_hand() -> None:
    """writePAXHeader for ``d/<150 x f>``: the ``x`` header named
    ``d/PaxHeaders.0/<file>`` cut to 100 bytes, the record, padding, then the main
    header with the name cut to its field."""
    name = b"d/" + b"f" * 150
    out = entry_header(TarEntry(name, TYPE_REG, 0o664, 7))
    record = b"162 path=" + name + b"\n"  # 4 + 152 + 3 bytes, plus the 3 digits of 162
    assert len(record) == 162
    assert len(out) == 512 + 512 + 512
    assert out[0:100] == (b"d/PaxHeaders.0/" + b"f" * 150)[:100]
    assert out[156:157] == b"x" and out[124:136] == b"%011o\x00" % 162
    assert out[329:345] == b"\x00" * 16
    assert out[512 : 512 + 162] == record and out[512 + 162 : 1024] == b"\x00" * (512 - 162)
    assert out[1024 : 1024 + 100] == name[:100]
    assert out[1024 + 156 : 1024 + 157] == b"0"


def test_a_cut_name_ending_in_slashes_is_ended_before_them() -> None:
    """formatString: when the cut leaves ``/`` in the field's last byte, a NUL goes
    where the trailing slashes start (some readers would take a file for a directory)."""
    name = b"d" * 99 + b"/" + b"e" * 120 + b"/"
    assert ustar_splits(name) == []
    out = entry_header(TarEntry(name, TYPE_DIR, 0o775))
    main = out[-512:]
    assert main[0:100] == b"d" * 99 + b"\x00"
    assert out[0:100].rstrip(b"\x00") == b"d" * 99  # "d…/e…/PaxHeaders.0" cut, "/" trimmed


def test_sizes_past_eleven_octal_digits_go_to_pax() -> None:
    size = 8**11  # 8 GiB: one more than the field holds
    out = entry_header(TarEntry(b"huge.bin", TYPE_REG, 0o664, size))
    assert out[512:531] == b"19 size=8589934592\n"
    assert out[-512 + 124 : -512 + 136] == b"00000000000\x00"
    assert out == header(b"huge.bin", TYPE_REG, 0o664, size)


def test_what_go_refuses() -> None:
    with pytest.raises(Unarchivable):
        entry_header(TarEntry(b"link", TYPE_SYMLINK, 0o777, 0, b"a\x00b"))
    with pytest.raises(Unarchivable):
        entry_header(TarEntry(b"link", TYPE_SYMLINK, 0o777, 0, b"t" * (1 << 20)))


def test_padding_and_path_clean() -> None:
    assert [len(padding(n)) for n in (0, 1, 511, 512, 513)] == [0, 511, 1, 0, 511]
    assert go_path_clean(b"a/./b/../c//") == b"a/c"
    assert go_path_clean(b"../a/..") == b".."
    assert go_path_clean(b"") == b"."
    assert go_path_clean(b"/..") == b"/"
