"""Read a bundle archive (.tar, .tar.gz/.tgz, .tar.xz, .tar.bz2) as one stream, within limits.

Nothing is extracted to disk and nothing is read whole before it is counted:

- the archive is decompressed here and every decompressed byte tarfile reads — headers, GNU
  long-name and pax records, member data, padding — is counted at the stream
  (`MAX_ARCHIVE_BYTES`), so a small archive cannot expand without bound;
- a long-name or pax header over `MAX_HEADER_BYTES` is refused before tarfile reads it (tarfile
  would otherwise read a 6 GB "name" into memory in one call); sparse members are refused;
- only the files a bundle can hold are kept (`want` says how many bytes of each): whole for
  objects/metrics/incident/probes/gaps, the tail for a log; everything else is read past.

Every problem is one `BundleError` line naming the archive.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import tarfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import IO, Any

from paramedic import errors

MAX_ARCHIVE_BYTES = 1024 * 1024 * 1024
"""Decompressed bytes read from one archive, headers included."""
MAX_ARCHIVE_MEMBERS = 100_000
MAX_HEADER_BYTES = 64 * 1024
"""Largest GNU long-name/long-link or pax extended header."""
_CHUNK = 1024 * 1024
_HEADERS = {
    tarfile.GNUTYPE_LONGNAME,
    tarfile.GNUTYPE_LONGLINK,
    tarfile.XHDTYPE,
    tarfile.XGLTYPE,
    tarfile.SOLARIS_XHDTYPE,
}

Want = Callable[[str], tuple[int, bool] | None]
"""For a member name: None to skip it, else (most bytes to keep, keep the tail when longer)."""


class _Refused(Exception):
    """A limit was hit inside tarfile's reading; turned into a BundleError naming the archive."""


class _Counted:
    """A read-only stream that counts what passes through and stops at `limit`."""

    def __init__(self, raw: IO[bytes], limit: int) -> None:
        self._raw = raw
        self._limit = limit
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        left = self._limit - self.count + 1
        data = self._raw.read(left if n is None or n < 0 else min(n, left))
        self.count += len(data)
        if self.count > self._limit:
            raise _Refused(f"expands to more than {size(self._limit)}")
        return data

    def close(self) -> None:
        self._raw.close()


class _BoundedInfo(tarfile.TarInfo):
    """A TarInfo that refuses huge extended headers and sparse members before tarfile reads
    them (tarfile's extension point: the `tarinfo` class given to `tarfile.open`)."""

    def _proc_member(self, tar: tarfile.TarFile) -> Any:
        if self.type in _HEADERS and self.size > MAX_HEADER_BYTES:
            raise _Refused(f"an extended header of {self.size} bytes (limit {MAX_HEADER_BYTES})")
        if self.type == tarfile.GNUTYPE_SPARSE:
            raise _Refused(f"entry {self.name!r} is a sparse file")
        return super()._proc_member(tar)  # type: ignore[misc]


def size(n: int) -> str:
    """'600 MiB', '12 KiB', '900 bytes': sizes in error lines that stay readable at any limit."""
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= factor:
            return f"{n / factor:.0f} {unit}"
    return f"{n} bytes"


def _open(path: Path) -> Any:
    with path.open("rb") as probe:
        magic = probe.read(6)
    if magic.startswith(b"\x1f\x8b"):
        return gzip.open(path, "rb")
    if magic.startswith(b"\xfd7zXZ\x00"):
        return lzma.open(path, "rb")
    if magic.startswith(b"BZh"):
        return bz2.open(path, "rb")
    return path.open("rb")


def read(path: Path, want: Want) -> dict[str, bytes]:
    """{member name: kept bytes} for the members `want` asks for."""
    files: dict[str, bytes] = {}
    try:
        stream = _Counted(_open(path), MAX_ARCHIVE_BYTES)
        try:
            opened: Any = tarfile.open  # typeshed has no overload for a duck-typed stream
            with opened(fileobj=stream, mode="r|", tarinfo=_BoundedInfo) as tar:
                for count, member in enumerate(tar, start=1):
                    if count > MAX_ARCHIVE_MEMBERS:
                        raise _Refused(f"more than {MAX_ARCHIVE_MEMBERS} entries")
                    rel = _safe_name(member, path)
                    plan = want(rel) if rel is not None else None
                    if rel is not None and plan is not None:
                        files[rel] = _keep(tar, member, *plan, archive=path)
        finally:
            stream.close()
    except _Refused as exc:
        raise errors.BundleError(f"{path}: archive refused: {exc}") from exc
    except (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError) as exc:
        # tarfile's error may list every method it tried, one per line: keep one line.
        detail = str(exc).splitlines()[0].rstrip(":") if str(exc) else type(exc).__name__
        raise errors.BundleError(f"{path}: not a readable tar archive ({detail})") from exc
    return files


def _keep(
    tar: tarfile.TarFile, member: tarfile.TarInfo, limit: int, tail: bool, *, archive: Path
) -> bytes:
    if member.size > limit and not tail:
        raise errors.BundleError(
            f"{archive}: {member.name}: {size(member.size)} is over the {size(limit)} limit "
            "for one file"
        )
    handle = tar.extractfile(member)
    if handle is None:
        return b""
    kept = bytearray()
    while chunk := handle.read(_CHUNK):
        kept += chunk
        if len(kept) > limit:
            del kept[: len(kept) - limit]
    return bytes(kept)


def _safe_name(member: tarfile.TarInfo, archive: Path) -> str | None:
    """The member's path inside the bundle; None for a directory; links, devices and names
    leaving the bundle are errors."""
    name = member.name
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts:
        raise errors.BundleError(f"{archive}: entry {name!r} points outside the bundle")
    if member.issym() or member.islnk():
        raise errors.BundleError(
            f"{archive}: entry {name!r} is a link; bundles may not contain links"
        )
    if member.isdir():
        return None
    if not member.isfile():
        raise errors.BundleError(f"{archive}: entry {name!r} is not a regular file")
    return "/".join(p for p in pure.parts if p not in ("", "."))
