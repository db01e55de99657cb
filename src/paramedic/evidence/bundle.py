"""Load an evidence bundle from disk: a directory, a `.tar.gz` of one, or a single file.

The format is a contract (DESIGN.md §2, docs/BUNDLE.md): only `objects.yaml|json` is required,
exactly as `kubectl get -o yaml|json` prints it. Everything a user can get wrong becomes one
`BundleError` line that names the file (and the line, where the parser knows it: `documents`
decodes each file). Nothing here follows links, reads special files or extracts archives to disk.
"""

from __future__ import annotations

import contextlib
import gc
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

from paramedic import errors
from paramedic.evidence import archive, documents, layout, model, probes_file, redact
from paramedic.evidence import incident as incident_file

MAX_FILE_BYTES = 512 * 1024 * 1024
"""Largest single file we read (a 350,000-object `kubectl get -A -o yaml` dump is ~480 MB)."""
MAX_LOG_BYTES = 2 * 1024 * 1024
"""Only the tail of a longer log file is kept."""
MAX_LOGS_BYTES = 64 * 1024 * 1024
"""Log bytes one bundle may bring in; the logs past it are named in a gap, not read."""
MAX_LOG_FILES = 10_000
MAX_GAPS = 500
"""gaps.txt lines kept (each cut at MAX_GAP_CHARS); the rest is counted in one more line."""
MAX_GAP_CHARS = 500

Reader = Callable[[str], bytes | None]


def load(path: str | Path, *, provenance: str | None = None) -> model.Evidence:
    """Evidence from a bundle directory, a .tar.gz bundle, or a single objects file."""
    with _no_gc():
        return _load(Path(path), provenance)


def _load(p: Path, provenance: str | None) -> model.Evidence:
    try:
        st = p.stat()
    except FileNotFoundError as exc:
        raise errors.BundleError(f"{p}: no such file or directory") from exc
    except OSError as exc:
        raise errors.BundleError(f"{p}: cannot read ({exc.strerror})") from exc
    label = provenance or f"bundle {p}"
    if stat.S_ISDIR(st.st_mode):
        return _from_directory(p, label)
    if not stat.S_ISREG(st.st_mode):
        raise errors.BundleError(f"{p}: not a regular file or directory")
    name = p.name.lower()
    if name.endswith((".tar.gz", ".tgz", ".tar")):
        return _from_archive(p, label)
    data = _read_regular(p)
    objects = documents.parse_objects(data, where=str(p))
    return model.Evidence.of(objects, provenance=label)


# --- sources ----------------------------------------------------------------------------------


def _from_directory(root: Path, label: str) -> model.Evidence:
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

    def log_files() -> Iterator[str]:
        # Every *.log entry is handed to read(), which refuses links and special files, so a
        # symlinked or FIFO log is an error rather than silently skipped (and never opened).
        logs = root / layout.LOGS
        if logs.is_symlink():
            raise errors.BundleError(f"{logs}: is a symbolic link; bundles may not contain links")
        if not logs.is_dir():
            return
        found = 0
        for dirpath, dirnames, filenames in os.walk(logs, followlinks=False):
            for d in dirnames:
                if (Path(dirpath) / d).is_symlink():
                    raise errors.BundleError(
                        f"{Path(dirpath) / d}: is a symbolic link; bundles may not contain links"
                    )
            for f in sorted(filenames):
                if f.endswith(".log"):
                    found += 1
                    if found > MAX_LOG_FILES:
                        raise errors.BundleError(f"{logs}: more than {MAX_LOG_FILES} log files")
                    yield (Path(dirpath) / f).relative_to(root).as_posix()

    return _assemble(read, sorted(log_files()), where=str(root), label=label)


def _from_archive(path: Path, label: str) -> model.Evidence:
    files = archive.read(path, _wanted)
    prefix = _common_root(files)
    if prefix:
        files = {name[len(prefix) :]: data for name, data in files.items()}
    logs = sorted(n for n in files if n.startswith(f"{layout.LOGS}/") and n.endswith(".log"))
    return _assemble(files.get, logs, where=str(path), label=label)


_BUNDLE_FILES = {*layout.OBJECTS, *layout.METRICS, *layout.INCIDENT, layout.PROBES, layout.GAPS}


def _wanted(name: str) -> tuple[int, bool] | None:
    """What an archive member is to a bundle (at the top or under one top folder): a file read
    whole, a log whose tail is kept, or nothing (skipped)."""
    parts = name.split("/")
    for rel in (parts, parts[1:]):
        if len(rel) == 1 and rel[0] in _BUNDLE_FILES:
            return MAX_FILE_BYTES, False
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
            data = handle.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:  # grew after stat()
            raise errors.BundleError(f"{path}: over the {archive.size(MAX_FILE_BYTES)} limit")
        return data
    except OSError as exc:
        raise errors.BundleError(f"{path}: cannot read ({exc.strerror or exc})") from exc


# --- assembling a bundle ----------------------------------------------------------------------


def _logs(read: Reader, names: list[str]) -> tuple[dict[model.LogKey, tuple[str, ...]], list[str]]:
    """Every log as evidence lines (`redact.log_text`: lines capped, credentials masked), up to
    MAX_LOGS_BYTES in all; the names of the logs past that."""
    logs: dict[model.LogKey, tuple[str, ...]] = {}
    skipped: list[str] = []
    total = 0
    for rel in names:
        key = layout.log_key(rel)
        if key is None:
            continue
        if total >= MAX_LOGS_BYTES:
            skipped.append(rel)
            continue
        content = (read(rel) or b"")[-MAX_LOG_BYTES:]
        total += len(content)
        logs[key] = redact.log_text(content.decode("utf-8", errors="replace"))
    return logs, skipped


def _gap_lines(text: str, *, where: str) -> list[str]:
    """gaps.txt as gap lines: at most MAX_GAPS, each at most MAX_GAP_CHARS long."""
    gaps: list[str] = []
    extra = 0
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if len(gaps) < MAX_GAPS:
            gaps.append(line if len(line) <= MAX_GAP_CHARS else line[: MAX_GAP_CHARS - 1] + "…")
        else:
            extra += 1
    if extra:
        gaps.append(f"{extra} more gaps in {where} not shown (the first {MAX_GAPS} are)")
    return gaps


def _first(read: Reader, names: tuple[str, ...]) -> tuple[str, bytes] | None:
    for name in names:
        data = read(name)
        if data is not None:
            return name, data
    return None


def _assemble(read: Reader, log_names: list[str], *, where: str, label: str) -> model.Evidence:
    found = _first(read, layout.OBJECTS)
    if found is None:
        raise errors.BundleError(f"{where}: no objects.yaml or objects.json (a bundle needs one)")
    name, data = found
    objects = documents.parse_objects(data, where=f"{where}/{name}")

    metrics: list[model.KubeObject] = []
    found = _first(read, layout.METRICS)
    if found:
        metrics = documents.parse_objects(found[1], where=f"{where}/{found[0]}")

    probes: tuple[probes_file.ProbeResult, ...] = ()
    raw = read(layout.PROBES)
    if raw is not None:
        at = f"{where}/{layout.PROBES}"
        probes = probes_file.parse(documents.decode_json(raw, where=at), where=at)

    incident = None
    found = _first(read, layout.INCIDENT)
    if found:
        docs = [d for d in documents.decode(found[1], where=f"{where}/{found[0]}") if d is not None]
        if len(docs) != 1:
            raise errors.BundleError(f"{where}/{found[0]}: expected exactly one document")
        incident = incident_file.parse(docs[0], where=f"{where}/{found[0]}")

    logs, skipped = _logs(read, log_names)

    gaps: list[str] = []
    raw = read(layout.GAPS)
    if raw is not None:
        # What the live gatherer could not read: checks lower their confidence for it, so a
        # captured bundle must carry it to be diagnosed offline exactly as it was live.
        gaps = _gap_lines(raw.decode("utf-8", errors="replace"), where=f"{where}/{layout.GAPS}")
    if skipped:
        gaps.append(
            f"{len(skipped)} log files not read (a bundle may bring in "
            f"{archive.size(MAX_LOGS_BYTES)} of logs): {', '.join(skipped[:3])}"
            + (", …" if len(skipped) > 3 else "")
        )

    return model.Evidence.of(
        objects,
        logs=logs,
        metrics=metrics,
        probes=probes,
        incident=incident,
        provenance=label,
        gaps=gaps,
    )


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
