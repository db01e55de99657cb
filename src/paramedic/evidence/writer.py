"""Write `Evidence` as a bundle (DESIGN.md §2, names in `layout`): a directory, or a .tar.gz.

    OUT/objects.yaml        a v1 List of every object, Secret values replaced by digests
    OUT/metrics.yaml        PodMetricsList, when there are metrics
    OUT/logs/<ns>/<pod>/<container>.log   (a previous container's log: <container>.previous.log)
    OUT/probes.json         recorded probe results, when there are any
    OUT/incident.yaml       what was diagnosed, so `paramedic diagnose OUT` needs no flags
    OUT/gaps.txt            what could not be gathered, one line each (the loader reads it back,
                            so checks weigh a capture exactly as they weighed the live run)
    OUT/cloud/<provider>/<name>.json   cloud CLI responses, as the CLI prints them

`bundle.load(write(e, out))` gives back the same objects, logs, metrics, probes and incident.
Nothing is written in place: the bundle is built next to OUT and renamed into it, and an
existing OUT is never overwritten.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import yaml

from paramedic import errors
from paramedic.evidence import cloud_files, layout, model, probes_file, redact

_ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")


def write(evidence: model.Evidence, out_path: str | Path) -> Path:
    """Write `evidence` to `out_path` (a .tar.gz / .tgz name makes an archive); return the path."""
    out = Path(out_path)
    files = render(evidence)
    if out.name.lower().endswith(_ARCHIVE_SUFFIXES):
        return _write_archive(out, files)
    return _write_directory(out, files)


def render(evidence: model.Evidence) -> dict[str, bytes]:
    """The bundle as {relative path: content}."""
    files: dict[str, bytes] = {
        layout.OBJECTS[0]: _yaml(
            {
                "apiVersion": "v1",
                "kind": "List",
                "metadata": {"resourceVersion": ""},
                "items": redact.objects(list(evidence.objects)),
            }
        ),
    }
    if evidence.metrics:
        files[layout.METRICS[0]] = _yaml(
            {
                "apiVersion": "metrics.k8s.io/v1beta1",
                "kind": "PodMetricsList",
                "metadata": {},
                "items": list(evidence.metrics),
            }
        )
    for key, lines in sorted(evidence.logs.items()):
        files[layout.log_path(key)] = "".join(f"{line}\n" for line in lines).encode()
    if evidence.probes:
        probes = redact.strings(evidence.probes)
        files[layout.PROBES] = (probes_file.dumps(probes) + "\n").encode()
    if evidence.incident is not None:
        files[layout.INCIDENT[0]] = _yaml(_incident(evidence))
    if evidence.gaps:
        files[layout.GAPS] = "".join(
            f"{redact.text(gap.line())}\n" for gap in evidence.gaps
        ).encode()
    for doc in evidence.cloud:
        files[doc.source] = cloud_files.render(doc)
    return files


def _incident(evidence: model.Evidence) -> dict[str, Any]:
    incident = evidence.incident
    assert incident is not None
    doc: dict[str, Any] = {"title": incident.title} if incident.title else {}
    doc |= {"source": incident.source, "target": incident.target}
    if incident.port is not None:
        doc["port"] = incident.port
    if incident.namespace is not None:
        doc["namespace"] = incident.namespace
    if incident.runbook != "db-connectivity":
        doc["runbook"] = incident.runbook
    if evidence.provenance:
        doc["notes"] = f"captured by paramedic from {evidence.provenance}"
    return doc


def _yaml(doc: Any) -> bytes:
    text = yaml.dump(doc, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True, width=120)
    return text.encode("utf-8")


def refuse_existing(out: Path) -> None:
    """InputError when `out` is taken (anything but an empty directory): called before a
    capture gathers anything, and again just before writing."""
    if out.is_symlink() or (out.exists() and not (out.is_dir() and not any(out.iterdir()))):
        raise errors.InputError(
            f"{out}: already exists; choose a new name (nothing was overwritten)"
        )


def _write_directory(out: Path, files: dict[str, bytes]) -> Path:
    refuse_existing(out)
    parent = out.parent if str(out.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=parent))
        try:
            for rel, content in files.items():
                target = staging / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
            os.chmod(staging, 0o755)
            if out.exists():
                out.rmdir()  # empty, checked above
            staging.rename(out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    except OSError as exc:
        raise errors.InputError(f"{out}: cannot write the bundle ({exc.strerror or exc})") from exc
    return out


def _write_archive(out: Path, files: dict[str, bytes]) -> Path:
    refuse_existing(out)
    name = out.name
    for suffix in _ARCHIVE_SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)] or "bundle"
    parent = out.parent if str(out.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=parent)
        try:
            with os.fdopen(fd, "wb") as handle, tarfile.open(fileobj=handle, mode="w:gz") as tar:
                for rel, content in files.items():
                    info = tarfile.TarInfo(f"{name}/{rel}")
                    info.size, info.mode = len(content), 0o644
                    tar.addfile(info, io.BytesIO(content))
            os.chmod(tmp, 0o644)
            os.replace(tmp, out)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise errors.InputError(f"{out}: cannot write the bundle ({exc.strerror or exc})") from exc
    return out
