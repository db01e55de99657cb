"""Load an evidence bundle from disk: a directory, a `.tar.gz` of one, or a single file.

The format is a contract (DESIGN.md §2, docs/BUNDLE.md): only `objects.yaml|json` is required,
exactly as `kubectl get -o yaml|json` prints it. Everything a user can get wrong becomes one
`BundleError` line that names the file (and the line, where the parser knows it: `documents`
decodes each file). Nothing here follows links, reads special files or extracts archives to disk.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

from paramedic import errors
from paramedic.evidence import (
    archive,
    clock,
    cloud_files,
    documents,
    hubble,
    layout,
    model,
    probes_file,
    redact,
    selection,
    text_files,
)
from paramedic.evidence import incident as incident_file

MAX_FILE_BYTES = 512 * 1024 * 1024
"""Largest single file we read (a 350,000-object `kubectl get -A -o yaml` dump is ~480 MB)."""
MAX_LOG_BYTES = text_files.MAX_LOG_BYTES
MAX_FILES = 10_000
"""Most log, cloud or flow files one bundle folder (logs/, cloud/, flows/) may hold."""
MAX_ARCHIVE_FLOW_BYTES = 64 * 1024 * 1024
"""In an archive a flow file is decompressed into memory: its last 64 MiB (the newest flows)."""
_CHUNK = 1024 * 1024

Reader = Callable[[str], bytes | None]


def load(
    path: str | Path,
    *,
    provenance: str | None = None,
    strict_cloud: bool = False,
    select: selection.Selection | None = None,
) -> model.Evidence:
    """Evidence from a bundle directory, a .tar.gz bundle, or a single objects file.

    A cloud file that cannot be read is a gap (the diagnosis goes on without it), or with
    `strict_cloud` (a command whose input *is* those files) a BundleError. `select`: what one
    diagnosis reads of a big List (evidence/selection.py), unless the bundle has an
    incident.yaml (which may name another incident or runbook)."""
    with _no_gc():
        evidence = _load(Path(path), provenance, strict_cloud, select)
    taken = clock.newest(evidence.objects, evidence.logs)
    if taken:
        return dataclasses.replace(
            evidence, taken_at=taken, taken_basis="newest object or log time"
        )
    with contextlib.suppress(OSError):
        return dataclasses.replace(
            evidence,
            taken_at=clock.from_mtime(os.stat(path).st_mtime),
            taken_basis="bundle modified",
        )
    return evidence


def _load(
    p: Path, provenance: str | None, strict_cloud: bool, select: selection.Selection | None
) -> model.Evidence:
    try:
        st = p.stat()
    except FileNotFoundError as exc:
        raise errors.BundleError(f"{p}: no such file or directory") from exc
    except OSError as exc:
        raise errors.BundleError(f"{p}: cannot read ({exc.strerror})") from exc
    label = provenance or f"bundle {p}"
    if stat.S_ISDIR(st.st_mode):
        return _from_directory(p, label, strict_cloud, select)
    if not stat.S_ISREG(st.st_mode):
        raise errors.BundleError(f"{p}: not a regular file or directory")
    name = p.name.lower()
    if name.endswith((".tar.gz", ".tgz", ".tar")):
        return _from_archive(p, label, strict_cloud, select)
    data = _read_regular(p)
    objects = documents.parse_objects(data, where=str(p), select=select)
    return model.Evidence.of(objects, provenance=label)


# --- sources ----------------------------------------------------------------------------------


def _from_directory(
    root: Path, label: str, strict_cloud: bool, select: selection.Selection | None
) -> model.Evidence:
    total = 0

    def read(rel: str) -> bytes | None:
        nonlocal total
        candidate = root / rel
        try:
            st = candidate.lstat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        if stat.S_ISLNK(st.st_mode):
            raise errors.BundleError(
                f"{candidate}: is a symbolic link; bundles may not contain links"
            )
        if not stat.S_ISREG(st.st_mode):
            raise errors.BundleError(f"{candidate}: not a regular file")
        data = (
            _read_tail(candidate, MAX_LOG_BYTES)
            if rel.startswith(f"{layout.LOGS}/")
            else _read_regular(candidate)
        )
        total += len(data)
        if total > archive.MAX_ARCHIVE_BYTES:
            raise errors.BundleError(
                f"{root}: more than {archive.size(archive.MAX_ARCHIVE_BYTES)} to read in all"
            )
        return data

    def files_under(folder: str, suffix: str) -> Iterator[str]:
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

    def stream(rel: str) -> Iterator[bytes]:
        """A flow file's bytes in chunks: never held whole (hubble bounds what it reads)."""
        candidate = root / rel
        st = candidate.lstat()
        if stat.S_ISLNK(st.st_mode) or not stat.S_ISREG(st.st_mode):
            raise errors.BundleError(f"{candidate}: not a regular file")
        try:
            with candidate.open("rb") as handle:
                while chunk := handle.read(_CHUNK):
                    yield chunk
        except OSError as exc:
            raise errors.BundleError(f"{candidate}: cannot read ({exc.strerror or exc})") from exc

    flows = hubble.load(sorted(files_under(layout.FLOWS, ".jsonl")), stream)
    return _assemble(
        read,
        sorted(files_under(layout.LOGS, ".log")),
        sorted(files_under(layout.CLOUD, ".json")),
        where=str(root),
        label=label,
        strict_cloud=strict_cloud,
        flows=flows,
        select=select,
    )


def _from_archive(
    path: Path, label: str, strict_cloud: bool, select: selection.Selection | None
) -> model.Evidence:
    files = archive.read(path, _wanted)
    prefix = _common_root(files)
    if prefix:
        files = {name[len(prefix) :]: data for name, data in files.items()}
    logs = sorted(n for n in files if n.startswith(f"{layout.LOGS}/") and n.endswith(".log"))
    clouds = sorted(n for n in files if n.startswith(f"{layout.CLOUD}/") and n.endswith(".json"))
    flow_names = sorted(
        n for n in files if n.startswith(f"{layout.FLOWS}/") and n.endswith(".jsonl")
    )
    flows = hubble.load(flow_names, lambda rel: iter((files[rel],)))
    return _assemble(
        files.get,
        logs,
        clouds,
        where=str(path),
        label=label,
        strict_cloud=strict_cloud,
        flows=flows,
        select=select,
    )


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
            return MAX_LOG_BYTES, True
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


def _read_regular(path: Path) -> bytes:
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


# --- assembling a bundle ----------------------------------------------------------------------


def _first(read: Reader, names: tuple[str, ...]) -> tuple[str, bytes] | None:
    for name in names:
        data = read(name)
        if data is not None:
            return name, data
    return None


def _assemble(
    read: Reader,
    log_names: list[str],
    cloud_names: list[str],
    *,
    where: str,
    label: str,
    strict_cloud: bool,
    flows: tuple[tuple[hubble.Flow, ...], tuple[str, ...]] = ((), ()),
    select: selection.Selection | None = None,
) -> model.Evidence:
    found_incident = _first(read, layout.INCIDENT)
    found = _first(read, layout.OBJECTS)
    if found is None:
        raise errors.BundleError(f"{where}: no objects.yaml or objects.json (a bundle needs one)")
    name, data = found
    ignored: list[str] = []
    objects = documents.parse_objects(
        data,
        where=f"{where}/{name}",
        ignored=ignored,
        select=select if found_incident is None else None,
    )

    metrics: list[model.KubeObject] = []
    found = _first(read, layout.METRICS)
    if found:
        metrics = documents.parse_objects(found[1], where=f"{where}/{found[0]}")

    probes: tuple[probes_file.ProbeResult, ...] = ()
    raw = read(layout.PROBES)
    if raw is not None:
        at = f"{where}/{layout.PROBES}"
        probes = redact.strings(probes_file.parse(documents.decode_json(raw, where=at), where=at))

    incident = None
    found = found_incident
    if found:
        docs = [d for d in documents.decode(found[1], where=f"{where}/{found[0]}") if d is not None]
        if len(docs) != 1:
            raise errors.BundleError(f"{where}/{found[0]}: expected exactly one document")
        incident = incident_file.parse(docs[0], where=f"{where}/{found[0]}")

    logs, skipped = text_files.logs(read, log_names)

    gaps: list[model.Gap] = []
    raw = read(layout.GAPS)
    if raw is not None:
        # What the live gatherer could not read: checks lower their confidence for it, so a
        # captured bundle must carry it to be diagnosed offline exactly as it was live.
        lines = text_files.gap_lines(raw, where=f"{where}/{layout.GAPS}")
        gaps = [redact.strings(model.Gap.parse(line)) for line in lines]
    gaps += [model.Gap("logs", "", line) for line in text_files.skipped_logs(skipped)]
    # objects no check reads, too odd to keep: said, never silent
    gaps += [model.Gap("", "", note) for note in ignored]

    gaps += [model.Gap("flows", "", line) for line in flows[1]]
    cloud, unreadable = _cloud(read, cloud_names, where=where, strict=strict_cloud)
    return model.Evidence.of(
        objects,
        logs=logs,
        metrics=metrics,
        probes=probes,
        incident=incident,
        provenance=label,
        gaps=(*gaps, *unreadable),
        cloud=cloud,
        flows=flows[0],
    )


def _cloud(
    read: Reader, names: list[str], *, where: str, strict: bool
) -> tuple[list[model.CloudDocument], tuple[model.Gap, ...]]:
    """cloud/<provider>/*.json: the documents, and a gap line for each file that cannot be read
    (or, when strict, the first such file's BundleError)."""
    docs: list[model.CloudDocument] = []
    gaps: list[model.Gap] = []
    for rel in names:
        parts = rel.split("/")
        data = read(rel) or b""  # a link or special file stays an error for the whole bundle
        try:
            if len(parts) != 3:
                raise errors.BundleError(
                    f"{where}/{rel}: cloud files live in cloud/<provider>/ (aws, gcp, azure)"
                )
            docs.append(cloud_files.parse(parts[1], rel, data, where=f"{where}/{rel}"))
        except errors.BundleError as exc:
            if strict:
                raise
            gaps.append(model.Gap("cloud", "", f"{exc} (cloud file not used)"))
    return docs, tuple(gaps)


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a bundle is parsed and indexed: the parser builds
    millions of acyclic containers, and the collector would otherwise scan them again and again,
    nearly doubling the load time of a big dump. Nothing built here can form a cycle."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
