"""Where a bundle's files come from: a directory or a tar archive, read with the same limits.

A `Source` hands the bundle assembler (evidence/bundle.py) one reader for named files, the
names of the log, cloud and flow files it holds, and a chunked stream for flow files. A
directory refuses links and special files (never opened), reads logs from their tail, and stops
past one byte budget for the whole bundle; an archive is read member by member into memory by
`archive.read`, which enforces the same limits. Nothing here follows links or writes to disk.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

from paramedic import errors
from paramedic.evidence import archive, layout, text_files

MAX_FILE_BYTES = 512 * 1024 * 1024
"""Largest single file we read (a 350,000-object `kubectl get -A -o yaml` dump is ~480 MB)."""
MAX_FILES = 10_000
"""Most log, cloud or flow files one bundle folder (logs/, cloud/, flows/) may hold."""
MAX_ARCHIVE_FLOW_BYTES = 64 * 1024 * 1024
"""In an archive a flow file is decompressed into memory: its last 64 MiB (the newest flows)."""
_CHUNK = 1024 * 1024

Reader = Callable[[str], bytes | None]


@dataclasses.dataclass(frozen=True)
class Source:
    """One bundle's files: `read(name)` is a file's bytes or None when it is absent."""

    where: str
    read: Reader
    logs: list[str]
    clouds: list[str]
    flows: list[str]
    stream: Callable[[str], Iterator[bytes]]
    """A flow file's bytes in chunks (evidence/hubble.py bounds how much it reads)."""


def directory(root: Path) -> Source:
    """The files of a bundle directory."""
    total = 0

    def read(rel: str) -> bytes | None:
        nonlocal total
        candidate = root / rel
        try:
            st = candidate.lstat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        _refuse_odd(candidate, st)
        data = (
            _read_tail(candidate, text_files.MAX_LOG_BYTES)
            if rel.startswith(f"{layout.LOGS}/")
            else read_regular(candidate)
        )
        total += len(data)
        if total > archive.MAX_ARCHIVE_BYTES:
            raise errors.BundleError(
                f"{root}: more than {archive.size(archive.MAX_ARCHIVE_BYTES)} to read in all"
            )
        return data

    def stream(rel: str) -> Iterator[bytes]:
        candidate = root / rel
        _refuse_odd(candidate, candidate.lstat())
        try:
            with candidate.open("rb") as handle:
                while chunk := handle.read(_CHUNK):
                    yield chunk
        except OSError as exc:
            raise errors.BundleError(f"{candidate}: cannot read ({exc.strerror or exc})") from exc

    return Source(
        where=str(root),
        read=read,
        logs=sorted(_files_under(root, layout.LOGS, ".log")),
        clouds=sorted(_files_under(root, layout.CLOUD, ".json")),
        flows=sorted(_files_under(root, layout.FLOWS, ".jsonl")),
        stream=stream,
    )


def tar(path: Path) -> Source:
    """The files of a bundle archive (.tar, .tar.gz), at its top or under one top folder."""
    files = archive.read(path, _wanted)
    prefix = _common_root(files)
    if prefix:
        files = {name[len(prefix) :]: data for name, data in files.items()}

    def named(folder: str, suffix: str) -> list[str]:
        return sorted(n for n in files if n.startswith(f"{folder}/") and n.endswith(suffix))

    return Source(
        where=str(path),
        read=files.get,
        logs=named(layout.LOGS, ".log"),
        clouds=named(layout.CLOUD, ".json"),
        flows=named(layout.FLOWS, ".jsonl"),
        stream=lambda rel: iter((files[rel],)),
    )


def read_regular(path: Path) -> bytes:
    """A whole regular file, refused before it is read when it is over MAX_FILE_BYTES."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise errors.BundleError(
                f"{path}: {archive.size(size)} is over the {archive.size(MAX_FILE_BYTES)} limit"
            )
        with path.open("rb") as handle:
            # the size it has, plus one byte to see it grew: read(MAX_FILE_BYTES + 1) would map
            # a 512 MiB buffer for every file (address space, under a RLIMIT_AS)
            data = handle.read(size + 1)
            if len(data) > size:  # it grew after stat(): read on, up to the limit
                data += handle.read(MAX_FILE_BYTES + 1 - len(data))
        if len(data) > MAX_FILE_BYTES:
            raise errors.BundleError(f"{path}: over the {archive.size(MAX_FILE_BYTES)} limit")
        return data
    except OSError as exc:
        raise errors.BundleError(f"{path}: cannot read ({exc.strerror or exc})") from exc


def _refuse_odd(path: Path, st: os.stat_result) -> None:
    if stat.S_ISLNK(st.st_mode):
        raise errors.BundleError(f"{path}: is a symbolic link; bundles may not contain links")
    if not stat.S_ISREG(st.st_mode):
        raise errors.BundleError(f"{path}: not a regular file")


def _files_under(root: Path, folder: str, suffix: str) -> Iterator[str]:
    # Every matching entry is handed to read(), which refuses links and special files, so a
    # symlinked or FIFO log is an error rather than silently skipped (and never opened).
    top = root / folder
    if top.is_symlink():
        raise errors.BundleError(f"{top}: is a symbolic link; bundles may not contain links")
    if not top.is_dir():
        return
    found = 0
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        for d in dirnames:
            if (Path(dirpath) / d).is_symlink():
                raise errors.BundleError(
                    f"{Path(dirpath) / d}: is a symbolic link; bundles may not contain links"
                )
        for f in sorted(filenames):
            if f.endswith(suffix):
                found += 1
                if found > MAX_FILES:
                    raise errors.BundleError(f"{top}: more than {MAX_FILES} files")
                yield (Path(dirpath) / f).relative_to(root).as_posix()


_BUNDLE_FILES = {*layout.OBJECTS, *layout.METRICS, *layout.INCIDENT, layout.PROBES, layout.GAPS}


def _wanted(name: str) -> tuple[int, bool] | None:
    """What an archive member is to a bundle (at the top or under one top folder): a file read
    whole, a log whose tail is kept, or nothing (skipped)."""
    parts = name.split("/")
    for rel in (parts, parts[1:]):
        if len(rel) == 1 and rel[0] in _BUNDLE_FILES:
            return MAX_FILE_BYTES, False
        if rel and rel[0] == layout.CLOUD and rel[-1].endswith(".json"):
            return MAX_FILE_BYTES, False
        if rel and rel[0] == layout.FLOWS and rel[-1].endswith(".jsonl"):
            return MAX_ARCHIVE_FLOW_BYTES, True
        if layout.log_key("/".join(rel)) is not None:
            return text_files.MAX_LOG_BYTES, True
    return None


def _common_root(files: dict[str, bytes]) -> str:
    """'bundle/' when every entry sits in one top folder and objects.* is not at the top."""
    if any(name in files for name in layout.OBJECTS):
        return ""
    tops = {name.split("/", 1)[0] for name in files if "/" in name}
    if len(tops) == 1 and all("/" in name for name in files):
        return tops.pop() + "/"
    return ""


def _read_tail(path: Path, limit: int) -> bytes:
    """The last `limit` bytes of a file (a log): a sparse 511 MiB log costs one seek."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - limit))
            return handle.read(limit)
    except OSError as exc:
        raise errors.BundleError(f"{path}: cannot read ({exc.strerror or exc})") from exc
