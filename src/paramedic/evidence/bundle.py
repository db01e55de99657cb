"""Load an evidence bundle from disk: a directory, a `.tar.gz` of one, or a single file.

The format is a contract (DESIGN.md §2, docs/BUNDLE.md): only `objects.yaml|json` is required,
exactly as `kubectl get -o yaml|json` prints it. Everything a user can get wrong becomes one
`BundleError` line that names the file (and the line, where the parser knows it: `documents`
decodes each file). Where the files come from, a directory or an archive, and the limits on
reading them are evidence/sources.py; this module puts them together into one `Evidence`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from paramedic import errors
from paramedic.evidence import (
    clock,
    cloud_files,
    documents,
    hubble,
    layout,
    model,
    probes_file,
    redact,
    selection,
    sources,
    text_files,
)
from paramedic.evidence import incident as incident_file


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
    if not stat.S_ISDIR(st.st_mode) and not stat.S_ISREG(st.st_mode):
        raise errors.BundleError(f"{p}: not a regular file or directory")
    if stat.S_ISDIR(st.st_mode) or p.name.lower().endswith((".tar.gz", ".tgz", ".tar")):
        source = sources.directory(p) if stat.S_ISDIR(st.st_mode) else sources.tar(p)
        return _assemble(source, label=label, strict_cloud=strict_cloud, select=select)
    data = sources.read_regular(p)
    objects = documents.parse_objects(data, where=str(p), select=select)
    return model.Evidence.of(objects, provenance=label)


# --- assembling a bundle ----------------------------------------------------------------------


def _first(read: sources.Reader, names: tuple[str, ...]) -> tuple[str, bytes] | None:
    for name in names:
        data = read(name)
        if data is not None:
            return name, data
    return None


def _assemble(
    source: sources.Source,
    *,
    label: str,
    strict_cloud: bool,
    select: selection.Selection | None,
) -> model.Evidence:
    read, where = source.read, source.where
    flows = hubble.load(source.flows, source.stream)
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

    logs, skipped = text_files.logs(read, source.logs)

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
    cloud, unreadable = _cloud(read, source.clouds, where=where, strict=strict_cloud)
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
    read: sources.Reader, names: list[str], *, where: str, strict: bool
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
