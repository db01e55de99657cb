"""Which kubeconfig files and context a live run uses, checked before the client library reads
them: files found as kubectl finds them (--kubeconfig, KUBECONFIG, ~/.kube/config), each read
with a size cap, its YAML refused when nested absurdly deep or full of aliases (an alias bomb
expands to gigabytes in the client), and every file it names (tokenFile, client-certificate,
client-key, certificate-authority) required to be a regular file under a size cap, so
`tokenFile: /dev/zero` is one line instead of a process filling memory. Every problem is one
`KubeAccessError` line naming the file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from paramedic import errors
from paramedic.evidence import named_file, yamltext

MAX_DEPTH = 64
"""Nesting of a kubeconfig (a real one is 6 deep)."""
MAX_ALIASES = 10
"""YAML aliases (`*name`) in a kubeconfig: kubectl writes none."""
_FILE_FIELDS = (
    "tokenFile",
    "client-certificate",
    "client-key",
    "certificate-authority",
    "idp-certificate-authority",
)


def files(kubeconfig: str | None) -> list[Path]:
    """The kubeconfig files to merge, as kubectl picks them ([] when there is none)."""
    if kubeconfig is not None:
        path = Path(kubeconfig).expanduser()
        if not path.is_file():
            raise errors.KubeAccessError(f"--kubeconfig {kubeconfig}: no such file")
        return [path]
    env = os.environ.get("KUBECONFIG")
    if env:
        found = [Path(p).expanduser() for p in env.split(os.pathsep) if p]
        existing = [p for p in found if p.is_file()]
        if not existing:
            raise errors.KubeAccessError(f"KUBECONFIG={env}: no such file")
        return existing
    default = Path("~/.kube/config").expanduser()
    return [default] if default.is_file() else []


def pick_context(paths: list[Path], wanted: str | None) -> tuple[str, str]:
    """(context name, its namespace) — checked here so an unknown context is one clear line."""
    contexts: dict[str, str] = {}
    current = ""
    for path in paths:
        doc = load(path)
        current = current or str(doc.get("current-context") or "")
        for item in doc.get("contexts") or []:
            if isinstance(item, dict) and item.get("name") and item["name"] not in contexts:
                ctx = item.get("context")
                ns = ctx.get("namespace") if isinstance(ctx, dict) else None
                contexts[str(item["name"])] = str(ns or "default")
    name = wanted or current
    if not name:
        raise errors.KubeAccessError(
            f"{paths[0]}: no current-context; pass --context"
            f" (contexts: {', '.join(sorted(contexts)) or 'none'})"
        )
    if name not in contexts:
        raise errors.KubeAccessError(
            f"context {name!r} not found in {', '.join(map(str, paths))}"
            f" (contexts: {', '.join(sorted(contexts)) or 'none'})"
        )
    return name, contexts[name]


def load(path: Path) -> dict[str, Any]:
    """One kubeconfig as a mapping, after every check above."""
    try:
        data = named_file.read(path, limit=named_file.KUBECONFIG, what="kubeconfig")
        text = data.decode("utf-8")
        _check_shape(text, path)
        doc = yamltext.load(text) or {}
    except errors.InputError as exc:
        raise errors.KubeAccessError(str(exc)) from exc
    except (UnicodeDecodeError, yaml.YAMLError, RecursionError, yamltext.NotYaml) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise errors.KubeAccessError(f"{path}: not a readable kubeconfig ({first})") from exc
    if not isinstance(doc, dict):
        raise errors.KubeAccessError(f"{path}: not a kubeconfig (expected a mapping)")
    _check_files(doc, path)
    return doc


def _check_shape(text: str, path: Path) -> None:
    """Refuse deep nesting and alias bombs from the event stream, before anything is built."""
    depth = aliases = 0
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise errors.KubeAccessError(
                    f"{path}: nested more than {MAX_DEPTH} deep; not a kubeconfig"
                )
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            depth -= 1
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise errors.KubeAccessError(
                    f"{path}: more than {MAX_ALIASES} YAML aliases; not a kubeconfig"
                )


def _check_files(doc: dict[str, Any], path: Path) -> None:
    """Every file a user or cluster entry names: a regular file under the cap."""
    for section, key in (("users", "user"), ("clusters", "cluster")):
        for item in doc.get(section) or []:
            entry = item.get(key) if isinstance(item, dict) else None
            if not isinstance(entry, dict):
                continue
            for field in _FILE_FIELDS:
                named = entry.get(field)
                if isinstance(named, str) and named:
                    target = Path(named).expanduser()
                    target = target if target.is_absolute() else path.parent / target
                    try:
                        named_file.check(
                            target, limit=named_file.KUBECONFIG_REFERENCE, what=f"{path}: {field}"
                        )
                    except errors.InputError as exc:
                        raise errors.KubeAccessError(str(exc)) from exc
