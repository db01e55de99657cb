"""YAML text read with PyYAML, one way: files people write (runbooks, routes, kubeconfigs,
incident.yaml) and YAML embedded in evidence (an Istio mesh config in a ConfigMap); and the
manifests a fix prints, written one way (`manifests`).

PyYAML's SafeLoader turns any scalar shaped like a timestamp into a `datetime`, and a date no
calendar has (`2024-13-01`, `2024-01-32`, `0000-01-01`, a UTC offset of 99 hours) makes the
loader raise ValueError, not a YAMLError: one odd value in a ConfigMap became an internal
error. Config text means the string it shows, as the Kubernetes API returns it, so the loader
here has no timestamp resolver: such a value stays a string. What can still fail while a value
is built (an explicit `!!timestamp` tag, an integer of more than 4300 digits, nesting deeper
than the parser's stack) is caught with every YAML error and raised as one `NotYaml` whose
message is one line ("line N: invalid YAML: problem"), for the caller to name the file, or the
object and field, the text came from.
"""

from __future__ import annotations

from typing import Any

import yaml

_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _Loader(yaml.CSafeLoader):
    """CSafeLoader without the implicit timestamp resolver."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
}


class NotYaml(ValueError):
    """The text is not YAML this reader can build values from; `str()` is one line."""

    def __init__(self, problem: str, line: int | None = None) -> None:
        self.problem = problem
        self.line = line
        super().__init__(
            f"line {line}: invalid YAML: {problem}" if line else f"invalid YAML: {problem}"
        )


def load(text: str) -> Any:
    """The one YAML document of `text` (None when empty); NotYaml when it is not readable."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise NotYaml(
            exc.problem or exc.context or "not YAML", mark.line + 1 if mark else None
        ) from exc
    except yaml.YAMLError as exc:
        raise NotYaml(_first_line(exc)) from exc
    except (ValueError, OverflowError, TypeError, RecursionError) as exc:
        raise NotYaml(f"a value YAML cannot build ({_first_line(exc)})") from exc


def manifests(*objects: Any, **style: Any) -> str:
    """The YAML text of `objects` as `kubectl apply -f -` reads them: keys in the order the fix
    built them, documents separated by `---`; `style`: PyYAML dump options (width, flow style).
    libyaml's emitter writes what PyYAML's pure-Python one does, about ten times faster."""
    return yaml.dump_all(objects, Dumper=yaml.CSafeDumper, sort_keys=False, **style)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
