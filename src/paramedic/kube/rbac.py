"""The RBAC paramedic needs, as manifests to apply (`paramedic rbac`).

The rules are written once, in the YAML files of paramedic/rbac/ (deploy/rbac applies the same
directory with kustomize): the read-only ClusterRole `paramedic-reader`, and three optional
Roles, each for one namespace: the Secrets the credentials check reads (by name), the probe
pods of --probe-pod, the port-forward of --db-probe. This module fills in only what differs
from one cluster to the next (who is bound, in which namespaces, which Secrets); the rules and
their comments stay as shipped. `needed` reads the same rules as one permission per verb and
resource, for `paramedic rbac --check` to ask the cluster about (gather.access). Nothing here
talks to a cluster: the output is for `kubectl apply -f -` by someone allowed to grant it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import re
from importlib import resources
from typing import Any

import yaml

from paramedic import errors

READER = "reader.yaml"
ROLES = {
    "secrets": "secrets-reader.yaml",
    "probe-pod": "probe-pod.yaml",
    "db-probe": "db-probe.yaml",
}
"""The optional Roles by what they allow, each file a Role then its RoleBinding."""
_NAMESPACE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_OBJECT_NAME = re.compile(r"(?=.{1,253}\Z)[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?")
_SLUG_DROPS = re.compile(r"[^a-z0-9.-]+")
_EITHER = {
    ("create", "pods/portforward"): ("create", "get"),
    ("get", "pods/portforward"): ("create", "get"),
}
"""(verb, resource) of a rule that lists two verbs of which either is enough -> (the one
asked first, the other)."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Subject:
    """Who a binding grants the role to: a user or group as the API server authenticates it
    (`kubectl auth whoami`), or a ServiceAccount."""

    kind: str
    name: str
    namespace: str = ""

    def entry(self) -> dict[str, str]:
        """The binding's `subjects` entry."""
        if self.kind == "ServiceAccount":
            return {"kind": self.kind, "name": self.name, "namespace": self.namespace}
        return {"apiGroup": "rbac.authorization.k8s.io", "kind": self.kind, "name": self.name}

    def slug(self) -> str:
        """A suffix for binding names, one per subject: a second `paramedic rbac` for another
        person adds a binding instead of replacing the first one's subjects. A name that had
        to be changed to fit (`alice@corp` -> `alice-corp`) gets a digest of the original, so
        two subjects never share a binding."""
        who = f"{self.namespace}.{self.name}" if self.namespace else self.name
        prefix = {"User": "user", "Group": "group", "ServiceAccount": "sa"}[self.kind]
        text = _SLUG_DROPS.sub("-", who.lower()).strip(".-")[:180] or "x"
        if text != who:
            text += "-" + hashlib.sha256(who.encode()).hexdigest()[:8]
        return f"{prefix}-{text}"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Grant:
    """What to print: who is bound, and which optional Roles in which namespaces."""

    subjects: tuple[Subject, ...] = ()
    secrets: tuple[tuple[str, str], ...] = ()
    """(namespace, Secret name): the credentials check reads each by name (never lists)."""
    probe_pods: tuple[str, ...] = ()
    db_probes: tuple[str, ...] = ()


def subject(kind: str, text: str, flag: str) -> Subject:
    """`text` as given to `flag` (--user NAME, --group NAME, --service-account NS/NAME)."""
    if kind == "ServiceAccount":
        namespace, name = namespaced(text, flag)
        return Subject(kind=kind, name=name, namespace=namespace)
    if not text.strip() or any(ch in text for ch in "\r\n"):
        raise errors.InputError(f"{flag} {text!r}: give the name the API server knows")
    return Subject(kind=kind, name=text.strip())


def namespaced(text: str, flag: str) -> tuple[str, str]:
    """NS/NAME as given to `flag` (a Secret, a ServiceAccount)."""
    namespace, slash, name = text.partition("/")
    if not slash:
        raise errors.InputError(f"{flag} {text!r}: write NAMESPACE/NAME")
    return namespace_name(namespace, flag), object_name(name, flag)


def namespace_name(text: str, flag: str) -> str:
    if not _NAMESPACE.fullmatch(text):
        raise errors.InputError(f"{flag}: {text!r} is not a namespace name (lower-case DNS label)")
    return text


def object_name(text: str, flag: str) -> str:
    if not _OBJECT_NAME.fullmatch(text):
        raise errors.InputError(f"{flag}: {text!r} is not an object name (lower-case DNS name)")
    return text


def manifests(grant: Grant) -> str:
    """YAML documents for `kubectl apply -f -`: the ClusterRole as shipped, a ClusterRoleBinding
    per subject, then each optional Role asked for in each namespace with a RoleBinding per
    subject. Raises InputError when a Role is asked for but nobody is named to bind it to."""
    wanted = _wanted_roles(grant)
    if wanted and not grant.subjects:
        raise errors.InputError(
            "name who gets the Roles: --user, --group or --service-account (the ClusterRole"
            " alone needs none)"
        )
    docs = [
        (_binding("ClusterRoleBinding", "ClusterRole", "paramedic-reader", s, ""), "")
        for s in grant.subjects
    ]
    for role_file, namespace, names in wanted:
        role = _in_namespace(_template(role_file), namespace)
        if names:
            role["rules"] = [dict(rule, resourceNames=list(names)) for rule in role["rules"]]
        docs.append((role, _header(role_file)))
        name = role["metadata"]["name"]
        docs += [(_binding("RoleBinding", "Role", name, s, namespace), "") for s in grant.subjects]
    generated = "".join(
        f"---\n{header}{yaml.safe_dump(doc, sort_keys=False)}" for doc, header in docs
    )
    return _text(READER).rstrip("\n") + "\n" + generated


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Permission:
    """One thing paramedic may need to do, as a SelfSubjectAccessReview asks it."""

    verb: str
    group: str
    resource: str
    subresource: str = ""
    or_verb: str = ""
    """Another verb that serves as well (the port-forward: `create` since Kubernetes 1.31,
    `get` before; the Role grants both)."""
    namespace: str = ""
    """'' for every namespace (what the ClusterRoleBinding grants)."""
    name: str = ""

    def describe(self) -> str:
        """`list networkpolicies.networking.k8s.io (cluster-wide)`, as kubectl names it."""
        what = self.resource + (f".{self.group}" if self.group else "")
        what += f"/{self.subresource}" if self.subresource else ""
        if self.name:
            return f"{self.verb} {what} {self.namespace}/{self.name}"
        where = f"in {self.namespace}" if self.namespace else "cluster-wide"
        return f"{self.verb} {what} ({where})"

    def attributes(self) -> dict[str, str]:
        """The review's `spec.resourceAttributes` (for `verb`; `or_verb` is asked the same way)."""
        return self.attributes_for(self.verb)

    def attributes_for(self, verb: str) -> dict[str, str]:
        fields = {
            "namespace": self.namespace,
            "verb": verb,
            "group": self.group,
            "resource": self.resource,
            "subresource": self.subresource,
            "name": self.name,
        }
        return {k: v for k, v in fields.items() if v}


def needed(grant: Grant) -> tuple[Permission, ...]:
    """Every permission the ClusterRole grants (every namespace) and each optional Role asked
    for grants in its namespace (a Secret by its name), one verb and resource at a time: the
    rules as shipped, read the way `manifests` prints them."""
    found = _permissions(_docs(READER)[0]["rules"], "", ())
    for role_file, namespace, names in _wanted_roles(grant):
        found += _permissions(_template(role_file)["rules"], namespace, names)
    return tuple(dict.fromkeys(found))


def _permissions(
    rules: list[dict[str, Any]], namespace: str, names: tuple[str, ...]
) -> list[Permission]:
    return [
        Permission(
            verb=verb,
            or_verb=_EITHER.get((verb, resource), ("", ""))[1],
            group=group,
            resource=resource.partition("/")[0],
            subresource=resource.partition("/")[2],
            namespace=namespace,
            name=name,
        )
        for rule in rules
        for group in rule.get("apiGroups") or [""]
        for resource in rule.get("resources") or []
        for verb in rule.get("verbs") or []
        for name in names or ("",)
        if (verb, resource) not in _EITHER or verb == _EITHER[verb, resource][0]
    ]


def _wanted_roles(grant: Grant) -> list[tuple[str, str, tuple[str, ...]]]:
    """(role file, namespace, resourceNames) per optional Role asked for, in a stable order."""
    secrets: dict[str, list[str]] = {}
    for namespace, name in grant.secrets:
        if name not in secrets.setdefault(namespace, []):
            secrets[namespace].append(name)
    return [
        *((ROLES["secrets"], ns, tuple(names)) for ns, names in secrets.items()),
        *((ROLES["probe-pod"], ns, ()) for ns in dict.fromkeys(grant.probe_pods)),
        *((ROLES["db-probe"], ns, ()) for ns in dict.fromkeys(grant.db_probes)),
    ]


def _binding(kind: str, role_kind: str, role: str, who: Subject, namespace: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": f"{role}-{who.slug()}"}
    if namespace:
        metadata["namespace"] = namespace
    metadata["labels"] = {"app.kubernetes.io/name": "paramedic"}
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": metadata,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
        "subjects": [who.entry()],
    }


def _in_namespace(doc: dict[str, Any], namespace: str) -> dict[str, Any]:
    return dict(doc, metadata=dict(doc["metadata"], namespace=namespace))


def _docs(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(_text(name)) if d]


def _template(name: str) -> dict[str, Any]:
    """An optional Role's file: its Role (the RoleBinding after it is for kustomize users)."""
    role = _docs(name)[0]
    assert isinstance(role, dict) and role.get("kind") == "Role", name
    return role


def _header(name: str) -> str:
    """The comment a file opens with: why the Role exists and what it allows."""
    lines = _text(name).splitlines(keepends=True)
    return "".join(line for line in itertools.takewhile(lambda t: t.startswith("#"), lines))


def _text(name: str) -> str:
    return (resources.files("paramedic") / "rbac" / name).read_text(encoding="utf-8")
