"""Git's smart HTTP protocol, client side, reduced to the questions we ask.

Flow for one repository (see gitprotocol-http, gitprotocol-v2, gitprotocol-pack):

1. ``GET info/refs?service=git-upload-pack`` with ``Git-Protocol: version=2``.
   A v2 server answers with its capability list; an older (or v2-disabled) server
   answers with the v0 ref advertisement, which already contains every ref.
2. v2 only: ``POST git-upload-pack`` ``command=ls-refs`` with ``peel`` and one
   ``ref-prefix`` per wanted ref.  ``ref-prefix`` is a plain string prefix
   (``refs/heads/maste`` matches ``master``), so names are compared exactly here.
3. Per (tip, commit): a fetch *negotiation* ``want <tip>`` / ``have <commit>``.
   The server ACKs a ``have`` exactly when it has that object, which is our
   existence probe.  Its ``ready`` is a date-limited heuristic, **not** an ancestry
   answer, so ancestry is decided only from the pack: with ``done`` (or after
   ``ready``) the server sends the objects reachable from the tip but not from the
   commit.  With ``filter tree:0`` that is just the commits in between, and the
   commit is an ancestor of the tip iff one of those commits lists it as a parent.

Without filter support the same pack also carries trees and blobs; it stays exact
but can be large, so it is bounded by the response-size cap, and hitting the cap
yields "could not verify" (UNREACHABLE), never a false defect.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import urljoin

import requests
from dulwich.errors import ApplyDeltaError, ChecksumMismatch
from dulwich.object_format import get_object_format
from dulwich.objects import Commit, ShaFile
from dulwich.pack import PackData, PackInflater

from .pktline import (
    CONTROL,
    FLUSH,
    Kind,
    NotOurRef,
    PktReader,
    ServerError,
    demux_sideband,
    encode,
    packet_length,
)
from .policy import RepoLocation
from .transport import RunLimits, StreamBody, Transport, TruncatedResponse, UpstreamUnavailable

__all__ = [
    "Negotiation",
    "NotOurRef",
    "ObjectHead",
    "RefTip",
    "UpstreamRepo",
    "commits_in_pack",
    "objects_in_pack",
    "refused_oid",
    "v0_fetch_pack",
    "v2_fetch_pack",
]

SERVICE = "git-upload-pack"
ADVERTISEMENT_TYPE = "application/x-git-upload-pack-advertisement"
RESULT_TYPE = "application/x-git-upload-pack-result"
REQUEST_TYPE = "application/x-git-upload-pack-request"
_REDIRECT_CODES = (301, 302, 303, 307, 308)
_MAX_REDIRECTS = 3
# Capabilities we ask for in v0, in git's usual order, when the server offers them.
_V0_WANTED_CAPS = ("multi_ack_detailed", "side-band-64k", "ofs-delta", "no-progress")

_T = TypeVar("_T")
Recheck = Callable[[str], tuple[RepoLocation, str]]


@dataclass(frozen=True)
class RefTip:
    """A ref as advertised: ``oid`` is what it points at, ``commit`` is peeled."""

    name: str
    oid: str
    commit: str


@dataclass
class Negotiation:
    """What one fetch exchange told us (``acked``: the server has the ``have``)."""

    acked: bool = False
    ready: bool = False
    # Every object of the ``have`` lines the server acknowledged (it has them).
    acked_oids: set[str] = field(default_factory=set)
    # Commits of the received pack (id -> parents); None when no pack was sent.
    commits: dict[str, tuple[str, ...]] | None = None


@dataclass(frozen=True)
class ObjectHead:
    """The start of one object as a pack carries it: git's type number (1 commit,
    2 tree, 3 blob, 4 tag), its full size, and at most the first bytes asked for."""

    type: int
    size: int
    head: bytes


@dataclass
class _Advertisement:
    version: int
    caps: dict[str, str] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)  # v0 only, includes "name^{}"


def objects_in_pack(pack: bytes, object_format: str = "sha1") -> dict[str, ShaFile]:
    """Every object of a pack by hex id, deltas resolved by dulwich.

    Runs inside the transport's retry loop: a pack that fails its checksum or does not
    decode was damaged in transit as far as we can tell, so it is reported as truncation
    (retryable) rather than as a verdict.
    """
    fmt = get_object_format(object_format)
    if len(pack) < 12 + fmt.oid_length or not pack.startswith(b"PACK"):
        raise TruncatedResponse("pack too short")
    data = PackData.from_file(io.BytesIO(pack), object_format=fmt, size=len(pack))
    try:
        data.check()
        return {obj.id.decode("ascii"): obj for obj in PackInflater.for_pack_data(data)}
    except (ChecksumMismatch, ApplyDeltaError, AssertionError, ValueError, EOFError) as exc:
        raise TruncatedResponse(f"pack could not be decoded: {exc}") from exc
    except zlib.error as exc:
        raise TruncatedResponse(f"pack could not be decoded: {exc}") from exc
    finally:
        data.close()


def commits_in_pack(pack: bytes, object_format: str = "sha1") -> dict[str, tuple[str, ...]]:
    """Commit id -> parent ids for every commit in a pack."""
    return {
        oid: tuple(parent.decode("ascii") for parent in obj.parents)
        for oid, obj in objects_in_pack(pack, object_format).items()
        if isinstance(obj, Commit)
    }


class UpstreamRepo:
    """One repository during one run: advertisement, refs and negotiations."""

    def __init__(
        self,
        transport: Transport,
        limits: RunLimits,
        location: RepoLocation,
        address: str,
        recheck: Recheck,
        advertisement: _Advertisement | None = None,
    ) -> None:
        """``advertisement``: one this client (or another for the same location) read
        earlier; capabilities rarely change, so a caller that needs no refs may reuse
        it and save the discovery request."""
        self._transport = transport
        self._limits = limits
        self.location = location
        self._address = address
        self._recheck = recheck
        self._adv: _Advertisement | None = advertisement

    # -- discovery ---------------------------------------------------------------

    @property
    def advertisement(self) -> _Advertisement:
        if self._adv is None:
            self._adv = self._discover()
        return self._adv

    @property
    def protocol_version(self) -> int:
        return self.advertisement.version

    @property
    def caps(self) -> dict[str, str]:
        """The capabilities the server advertised."""
        return self.advertisement.caps

    @property
    def object_format(self) -> str:
        return self.advertisement.caps.get("object-format", "sha1")

    @property
    def supports_filter(self) -> bool:
        adv = self.advertisement
        if adv.version == 2:
            return "filter" in adv.caps.get("fetch", "").split()
        return "filter" in adv.caps

    @property
    def supports_shallow(self) -> bool:
        adv = self.advertisement
        if adv.version == 2:
            return "shallow" in adv.caps.get("fetch", "").split()
        return "shallow" in adv.caps

    def _discover(self) -> _Advertisement:
        for _ in range(_MAX_REDIRECTS + 1):
            result = self._transport.request(
                self._limits,
                self.location,
                self._address,
                "GET",
                f"/info/refs?service={SERVICE}",
                headers={"Git-Protocol": "version=2", "Accept": "*/*"},
                parse=self._parse_info_refs,
            )
            if isinstance(result, _Advertisement):
                return result
            self._follow_redirect(result)
        raise UpstreamUnavailable(f"{self.location.display} redirected too many times")

    def _follow_redirect(self, target: str) -> None:
        """Re-apply the whole URL policy to a redirect target, like a new manifest URL.

        As git does, the redirect must keep the ``/info/refs`` suffix; the new base
        is then used for the POSTs too.
        """
        suffix = f"/info/refs?service={SERVICE}"
        absolute = urljoin(self.location.display + suffix, target)
        if not absolute.endswith(suffix):
            raise UpstreamUnavailable(
                f"{self.location.display} redirected somewhere that is not a git repository"
            )
        location, address = self._recheck(absolute[: -len(suffix)])
        self.location, self._address = location, address

    def _parse_info_refs(self, response: requests.Response, body: bytes) -> _Advertisement | str:
        status = response.status_code
        if status in _REDIRECT_CODES and response.headers.get("Location"):
            return response.headers["Location"]
        if status in (401, 403, 404):
            raise UpstreamUnavailable(
                f"{self.location.display} answered HTTP {status} "
                "(repository missing, private or access denied)"
            )
        if status != 200:
            raise UpstreamUnavailable(f"{self.location.display} answered HTTP {status}")
        if response.headers.get("Content-Type", "").split(";")[0].strip() != ADVERTISEMENT_TYPE:
            raise UpstreamUnavailable(
                f"{self.location.display} does not speak git's smart HTTP protocol"
            )
        reader = PktReader(body)
        kind, line = reader.read_text()
        if kind is Kind.DATA and line == f"# service={SERVICE}":
            # Smart v0 responses (and some v2 servers) start with this banner + flush.
            if reader.read()[0] is not Kind.FLUSH:
                raise ServerError("missing flush after service banner")
            kind, line = reader.read_text()
        if kind is Kind.DATA and line == "version 2":
            return self._parse_v2_caps(reader)
        if kind is Kind.DATA and line == "version 1":
            kind, line = reader.read_text()
        return _parse_v0_refs(reader, kind, line)

    def _parse_v2_caps(self, reader: PktReader) -> _Advertisement:
        adv = _Advertisement(version=2)
        while True:
            kind, line = reader.read_text()
            if kind is Kind.FLUSH:
                return adv
            if kind is not Kind.DATA:
                raise TruncatedResponse("capability advertisement ended early")
            key, _, value = line.partition("=")
            adv.caps[key] = value

    # -- refs ----------------------------------------------------------------------

    def list_refs(self, names: Iterable[str]) -> dict[str, RefTip]:
        """Tips of the requested refs that exist (exact names), with tags peeled."""
        wanted = sorted(set(names))
        adv = self.advertisement
        if adv.version != 2:
            return {
                name: RefTip(name, adv.refs[name], adv.refs.get(name + "^{}", adv.refs[name]))
                for name in wanted
                if name in adv.refs
            }
        if not wanted:
            return {}
        found = self._post(self._ls_refs_body(wanted), _parse_ls_refs)
        return {name: found[name] for name in wanted if name in found}

    def _ls_refs_body(self, wanted: Sequence[str]) -> bytes:
        body = encode("command=ls-refs\n") + self._format_arg()
        body += b"0001" + encode("peel\n")
        body += b"".join(encode(f"ref-prefix {name}\n") for name in wanted)
        return body + FLUSH

    # -- negotiation ---------------------------------------------------------------

    def negotiate(self, want: str, have: str, *, done: bool) -> Negotiation:
        """One fetch round: ``want``, ``have`` and optionally ``done``.

        Two uses (see :mod:`.verifier`): ``want <tip> have <commit>`` without ``done``
        is the existence probe (ACK iff the server has the object; a v2 server that
        also says ``ready`` sends the pack right away), and with ``done`` it yields the
        commits between.  ``want <commit> have <tip> done`` is the reverse question:
        an empty pack means the commit is reachable from the tip.  v0 stateless
        servers never send a pack without ``done``.  A want the server will not
        serve raises :class:`NotOurRef`.
        """
        return self.negotiate_many([want], [have], done=done)

    def negotiate_many(
        self, wants: Sequence[str], haves: Sequence[str], *, done: bool
    ) -> Negotiation:
        """:meth:`negotiate` with several wants and haves in one round.

        ``want c1..cn, have tip, done`` gives a pack holding exactly the wanted commits
        that are not reachable from the tip; ``want tip, have c1..cn`` without ``done``
        acknowledges every ``ci`` the server has (:attr:`Negotiation.acked_oids`).
        """
        have = haves[0]
        filter_spec = "tree:0" if self.supports_filter else None
        body = self.fetch_body(wants, haves, filter_spec=filter_spec, done=done)
        if self.protocol_version == 2:
            return self._post(body, lambda r: _parse_fetch_v2(r, have, self.object_format))
        sideband = self.sideband
        return self._post(
            body, lambda r: _parse_fetch_v0(r, have, done, sideband, self.object_format)
        )

    @property
    def sideband(self) -> bool:
        """Whether a v0 response multiplexes the pack (v2 always does)."""
        caps = self.advertisement.caps
        return self.protocol_version == 2 or "side-band-64k" in caps or "side-band" in caps

    def fetch_body(
        self,
        wants: Sequence[str],
        haves: Sequence[str] = (),
        *,
        filter_spec: str | None = None,
        deepen: int | None = None,
        done: bool = True,
        multi_ack: bool = True,
    ) -> bytes:
        """The body of one ``fetch`` request in the server's protocol version.

        v0 puts the capabilities on the first want line (``filter`` must be among them
        for a filter line to be accepted); ``multi_ack`` asks for ``multi_ack_detailed``
        (acknowledgments of every have), which a fetch without haves does not need.
        """
        if self.protocol_version == 2:
            body = encode("command=fetch\n") + self._format_arg() + b"0001"
            body += encode("no-progress\n") + encode("ofs-delta\n")
            body += b"".join(encode(f"want {want}\n") for want in wants)
            if deepen is not None:
                body += encode(f"deepen {deepen}\n")
            if filter_spec:
                body += encode(f"filter {filter_spec}\n")
            body += b"".join(encode(f"have {have}\n") for have in haves)
            if done:
                body += encode("done\n")
            return body + FLUSH
        caps = self.advertisement.caps
        chosen = [
            cap
            for cap in _V0_WANTED_CAPS
            if cap in caps and (multi_ack or cap != "multi_ack_detailed")
        ]
        if "side-band-64k" not in caps and "side-band" in caps:
            chosen.append("side-band")
        if filter_spec:
            chosen.append("filter")  # v0 rejects a filter line not announced here
        if "object-format" in caps:
            chosen.append(f"object-format={caps['object-format']}")
        body = encode(f"want {wants[0]} {' '.join(chosen)}\n")
        body += b"".join(encode(f"want {want}\n") for want in wants[1:])
        if deepen is not None:
            body += encode(f"deepen {deepen}\n")
        if filter_spec:
            body += encode(f"filter {filter_spec}\n")
        body += FLUSH + b"".join(encode(f"have {have}\n") for have in haves)
        if done:
            return body + encode("done\n")
        return body + (FLUSH if haves else b"")

    def fetch_pack(
        self,
        wants: Sequence[str],
        *,
        haves: Sequence[str] = (),
        filter_spec: str | None = None,
        deepen: int | None = None,
        max_response_bytes: int | None = None,
    ) -> dict[str, ShaFile]:
        """One fetch with ``done``: every object the server sends for ``wants`` (with
        ``deepen``/``filter_spec`` applied), decoded by hex id.

        ``haves``: commits whose whole history the caller already holds; the server
        leaves out everything they reach (no ``thin-pack`` is asked for, so nothing in
        the pack is a delta against an object outside it).  A want the server will not
        serve raises :class:`NotOurRef`; git names the first such object in the message
        (see :func:`refused_oid`).  A response bigger than ``max_response_bytes``
        (default: the run's cap) raises :class:`~.transport.ResponseTooLarge`.
        """
        fmt = self.object_format
        body = self.fetch_body(
            wants, haves, filter_spec=filter_spec, deepen=deepen, multi_ack=False
        )
        cap = max_response_bytes
        if self.protocol_version == 2:
            return self._post(body, lambda reader: objects_in_pack(v2_fetch_pack(reader), fmt), cap)
        sideband = self.sideband
        return self._post(
            body, lambda reader: objects_in_pack(v0_fetch_pack(reader, sideband), fmt), cap
        )

    # -- single objects, cheaply -------------------------------------------------------

    @property
    def supports_object_info(self) -> bool:
        """v2 ``object-info`` (sizes by id in one request): git advertises it (2.39
        always, later behind ``transfer.advertiseObjectInfo``); GitHub does not."""
        adv = self.advertisement
        return adv.version == 2 and "object-info" in adv.caps

    def object_sizes(self, oids: Sequence[str]) -> dict[str, int | None]:
        """v2 ``object-info`` with ``size``: each id's size, ``None`` for an object the
        server does not have (git answers ``<oid> `` with no size)."""
        body = encode("command=object-info\n") + self._format_arg() + b"0001"
        body += encode("size\n") + b"".join(encode(f"oid {oid}\n") for oid in oids)
        return self._post(body + FLUSH, _parse_object_info)

    def object_head(self, oid: str, limit: int) -> ObjectHead:
        """Type, size and first ``limit`` bytes of one object, without its rest.

        A fetch wanting only ``oid`` (no ``have``, no ``thin-pack``) gets a pack of that
        one object, which cannot be a delta (its base would have to be in the pack:
        pinned in tests/upstream/test_history.py against a deltified blob).  The pack
        header and the object header (type and inflated size) come first, then zlib
        data: the response is read only until ``limit`` bytes inflate, then the
        connection is closed, so a 20 MiB blob costs a few kilobytes (at most the side-band
        packets, of up to 64 KiB each, that hold the head).
        """
        body = self.fetch_body([oid], done=True, multi_ack=False)
        headers = {"Content-Type": REQUEST_TYPE, "Accept": RESULT_TYPE}
        if self.protocol_version == 2:
            headers["Git-Protocol"] = "version=2"
        version2, sideband = self.protocol_version == 2, self.sideband

        def consume(response: requests.Response, stream: StreamBody) -> ObjectHead:
            if response.status_code != 200:
                raise UpstreamUnavailable(
                    f"{self.location.display} answered HTTP {response.status_code} to {SERVICE}"
                )
            return _read_object_head(_pack_bytes(stream, version2, sideband), limit)

        return self._transport.stream(
            self._limits,
            self.location,
            self._address,
            "POST",
            f"/{SERVICE}",
            headers=headers,
            body=body,
            consume=consume,
        )

    # -- plumbing ------------------------------------------------------------------

    def _format_arg(self) -> bytes:
        fmt = self.advertisement.caps.get("object-format")
        return encode(f"object-format={fmt}\n") if fmt else b""

    def _post(
        self,
        body: bytes,
        parse: Callable[[PktReader], _T],
        max_response_bytes: int | None = None,
    ) -> _T:
        headers = {"Content-Type": REQUEST_TYPE, "Accept": RESULT_TYPE}
        if self.protocol_version == 2:
            headers["Git-Protocol"] = "version=2"

        def handle(response: requests.Response, payload: bytes) -> _T:
            if response.status_code != 200:
                raise UpstreamUnavailable(
                    f"{self.location.display} answered HTTP {response.status_code} to {SERVICE}"
                )
            if not payload:
                # git answers an unacceptable request (e.g. a filter it does not allow)
                # with 200 and no body: deterministic, so not retried.
                raise UpstreamUnavailable(
                    f"{self.location.display} returned an empty {SERVICE} response"
                )
            return parse(PktReader(payload))

        return self._transport.request(
            self._limits,
            self.location,
            self._address,
            "POST",
            f"/{SERVICE}",
            headers=headers,
            body=body,
            parse=handle,
            max_response_bytes=max_response_bytes,
        )


def refused_oid(exc: NotOurRef) -> str | None:
    """The object id named by git's ``not our ref <oid>`` refusal, if any."""
    last = str(exc).rsplit(" ", 1)[-1].lower()
    return last if len(last) in (40, 64) and all(c in "0123456789abcdef" for c in last) else None


def v2_fetch_pack(reader: PktReader) -> bytes:
    """The pack of a v2 fetch response, skipping the sections before it
    (``shallow-info`` after a deepen; ``acknowledgments`` is not sent with ``done``)."""
    while True:
        kind, section = reader.read_text()
        if kind is Kind.EOF:
            raise TruncatedResponse("fetch response ended before the pack")
        if kind is not Kind.DATA:
            raise ServerError("expected a section header in fetch response")
        if section == "packfile":
            return demux_sideband(reader)
        while True:
            kind, _line = reader.read_text()
            if kind is Kind.DATA:
                continue
            if kind is Kind.DELIM:
                break
            if kind is Kind.FLUSH:
                raise ServerError("fetch response has no pack")
            raise TruncatedResponse("fetch response section ended early")


def v0_fetch_pack(reader: PktReader, sideband: bool) -> bytes:
    """The pack of a stateless v0 fetch response sent with ``done``.

    Verified against git 2.39: with ``deepen`` the response starts with the
    ``shallow`` lines and a flush, then ``NAK``, then the (side-band) pack.
    """
    while True:
        if reader.peek_raw(4) == b"PACK":
            return reader.rest()
        mark = reader.offset
        kind, payload = reader.read()
        if kind is Kind.EOF:
            raise TruncatedResponse("fetch response ended before the pack")
        if kind is Kind.FLUSH:
            continue
        if kind is Kind.DATA and payload.startswith((b"shallow ", b"unshallow ", b"ACK", b"NAK")):
            continue
        reader.offset = mark
        break
    if not sideband:
        raise ServerError("unexpected data before the pack")
    return demux_sideband(reader)


def _parse_v0_refs(reader: PktReader, kind: Kind, line: str) -> _Advertisement:
    adv = _Advertisement(version=0)
    first = True
    while True:
        if kind is Kind.FLUSH:
            return adv
        if kind is not Kind.DATA:
            raise TruncatedResponse("ref advertisement ended early")
        if first:
            line, _, caps = line.partition("\0")
            for cap in caps.split():
                key, _, value = cap.partition("=")
                adv.caps[key] = value
            first = False
        oid, _, name = line.partition(" ")
        if name and name != "capabilities^{}":
            adv.refs[name] = oid
        kind, line = reader.read_text()


def _parse_ls_refs(reader: PktReader) -> dict[str, RefTip]:
    refs: dict[str, RefTip] = {}
    while True:
        kind, line = reader.read_text()
        if kind is Kind.FLUSH:
            return refs
        if kind is not Kind.DATA:
            raise TruncatedResponse("ls-refs response ended early")
        fields = line.split(" ")
        if len(fields) < 2:
            raise ServerError("malformed ls-refs line")
        oid, name, attributes = fields[0], fields[1], fields[2:]
        peeled = oid
        for attribute in attributes:
            if attribute.startswith("peeled:"):
                peeled = attribute[len("peeled:") :]
        refs[name] = RefTip(name, oid, peeled)


def _parse_fetch_v2(reader: PktReader, have: str, object_format: str) -> Negotiation:
    result = Negotiation()
    kind, section = reader.read_text()
    while True:
        if kind is Kind.EOF:
            raise TruncatedResponse("fetch response ended early")
        if kind is not Kind.DATA:
            raise ServerError("expected a section header in fetch response")
        if section == "packfile":
            # Decoded here, inside the retry loop, so a damaged pack is fetched again.
            result.commits = commits_in_pack(demux_sideband(reader), object_format)
            return result
        # acknowledgments, shallow-info, wanted-refs, packfile-uris: line sections.
        while True:
            kind, line = reader.read_text()
            if kind is Kind.DATA:
                if section == "acknowledgments":
                    if line.startswith("ACK "):
                        result.acked_oids.add(line[4:].strip())
                        result.acked = result.acked or line == f"ACK {have}"
                    elif line == "ready":
                        result.ready = True
                continue
            if kind is Kind.FLUSH:
                return result
            if kind is Kind.DELIM:
                kind, section = reader.read_text()
                break
            raise TruncatedResponse("fetch response section ended early")


def _parse_fetch_v0(
    reader: PktReader, have: str, done: bool, sideband: bool, object_format: str
) -> Negotiation:
    result = Negotiation()
    while True:
        mark = reader.offset
        if reader.peek_raw(4) == b"PACK":
            break
        kind, line = reader.read_text()
        if kind is Kind.EOF:
            if done:
                raise TruncatedResponse("fetch response ended before the pack")
            return result
        if kind is Kind.DATA and line.startswith(("ACK ", "NAK", "shallow ", "unshallow ")):
            words = line.split()
            # Only "ACK <oid> common" (multi_ack_detailed) says the server has <oid>:
            # "ACK <oid> ready|continue" may name a have it does not have at all.
            if words[0] == "ACK" and len(words) > 1 and words[2:] in ([], ["common"]):
                result.acked_oids.add(words[1])
            if words[0] == "ACK" and words[1] == have:
                result.acked = True
                result.ready = result.ready or words[2:] == ["ready"]
            continue
        if kind is Kind.FLUSH and not done:
            continue
        reader.offset = mark
        break
    if not done:
        raise ServerError("unexpected data in negotiation response")
    pack = demux_sideband(reader) if sideband else reader.rest()
    result.commits = commits_in_pack(pack, object_format)
    return result


def _parse_object_info(reader: PktReader) -> dict[str, int | None]:
    kind, line = reader.read_text()
    if kind is not Kind.DATA or line.strip() != "size":
        raise ServerError("object-info answer does not start with its attribute list")
    sizes: dict[str, int | None] = {}
    while True:
        kind, line = reader.read_text()
        if kind is Kind.FLUSH:
            return sizes
        if kind is not Kind.DATA:
            raise TruncatedResponse("object-info answer ended early")
        oid, _, size = line.strip().partition(" ")
        sizes[oid] = int(size) if size.isdigit() else None


def _stream_pkt(stream: StreamBody) -> tuple[Kind, bytes]:
    """One pkt-line off a streamed body (``ERR`` lines raise like :class:`PktReader`)."""
    header = stream.read(4)
    if not header:
        return Kind.EOF, b""
    length = packet_length(header)
    if length < 4:
        return CONTROL[length], b""
    return PktReader(header + stream.read_exactly(length - 4)).read()


def _pack_bytes(stream: StreamBody, version2: bool, sideband: bool) -> Iterator[bytes]:
    """The pack data of a fetch response, piece by piece as it arrives."""
    if version2:
        while True:
            kind, payload = _stream_pkt(stream)
            if kind is Kind.EOF:
                raise TruncatedResponse("fetch response ended before the pack")
            if kind is Kind.DATA and payload.rstrip(b"\n") == b"packfile":
                break
    else:
        while True:  # "NAK" (and nothing else: no haves, no deepen) before the pack
            first = stream.read(4)
            if first == b"PACK" or not first:
                if not first:
                    raise TruncatedResponse("fetch response ended before the pack")
                yield first
                while piece := stream.read(8192):
                    yield piece
                return
            kind, payload = PktReader(first + stream.read_exactly(int(first, 16) - 4)).read()
            if kind is Kind.DATA and payload.startswith(b"NAK"):
                if sideband:
                    break
                continue
            raise ServerError("unexpected data before the pack")
    while True:
        kind, payload = _stream_pkt(stream)
        if kind is Kind.FLUSH or kind is Kind.EOF:
            raise TruncatedResponse("side-band stream ended before the object did")
        if kind is not Kind.DATA or not payload:
            raise ServerError("unexpected packet in side-band stream")
        if payload[0] == 1:
            yield payload[1:]
        elif payload[0] == 3:
            raise ServerError(payload[1:].decode("utf-8", "replace").strip())


def _read_object_head(pieces: Iterator[bytes], limit: int) -> ObjectHead:
    buffer = bytearray()

    def need(size: int) -> None:
        while len(buffer) < size:
            piece = next(pieces, None)
            if piece is None:
                raise TruncatedResponse("pack ended early")
            buffer.extend(piece)

    need(12)
    if buffer[:4] != b"PACK" or int.from_bytes(buffer[8:12], "big") < 1:
        raise ServerError("the fetch answer holds no object")
    offset = 12
    need(offset + 1)
    byte = buffer[offset]
    kind, size, shift = (byte >> 4) & 7, byte & 0x0F, 4
    while byte & 0x80:
        offset += 1
        need(offset + 1)
        byte = buffer[offset]
        size |= (byte & 0x7F) << shift
        shift += 7
    offset += 1
    if kind not in (1, 2, 3, 4):
        raise ServerError(f"a lone object came as pack type {kind} (a delta)")
    want = min(size, limit)
    inflater = zlib.decompressobj()
    out = bytearray()
    pending = bytes(buffer[offset:])
    while len(out) < want:
        if not pending:
            piece = next(pieces, None)
            if piece is None:
                raise TruncatedResponse("pack ended inside the object")
            pending = piece
        try:
            out += inflater.decompress(pending, want - len(out))
        except zlib.error as exc:
            raise TruncatedResponse(f"object data could not be inflated: {exc}") from exc
        pending = inflater.unconsumed_tail
        if inflater.eof and len(out) < want:
            raise ServerError("object data is shorter than its header says")
    return ObjectHead(kind, size, bytes(out[:want]))
