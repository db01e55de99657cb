"""The ranked fixes `connection-pool` proposes, with real numbers (the arithmetic itself is in
`slots`).

Fixes, in order: smaller pools (or a pooler such as PgBouncer) sized to the usable slots;
ending idle-in-transaction sessions and capping them with a timeout; and, last, raising
max_connections, which needs a server restart (postmaster context) and costs memory per backend.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from paramedic import errors
from paramedic.checks import clues, model
from paramedic.checks.connection_pool import facts
from paramedic.checks.connection_pool.slots import Arithmetic
from paramedic.kube import objects, pods, quantities, resolve

MIB_PER_CONNECTION = 10
"""Rough resident memory of one idle backend (MiB), before work_mem for sorts and hashes."""

WHY = (
    "PostgreSQL serves every connection with its own process and refuses new sessions with "
    "SQLSTATE 53300 once max_connections minus the reserved slots are taken. Pools that together "
    "may open more than that fail at peak, and a rolling update briefly runs old and new pods with "
    "full pools. Smaller pools (or a pooler that multiplexes many clients onto few server "
    "connections) keep the total under the limit; raising the limit costs memory and a restart."
)


def fix(
    scope: resolve.Scope,
    limits: facts.ServerLimits | None,
    clients: Sequence[facts.ClientDemand],
    numbers: Arithmetic,
    probe: Mapping[str, Any],
    object_limits: Sequence[tuple[str, str]] = (),
) -> model.Fix:
    """Ranked fixes; `object_limits`: ('ROLE'|'DATABASE', name) whose CONNECTION LIMIT was hit."""
    steps: list[model.FixStep] = [
        _object_limit(scope, kind, name, numbers) for kind, name in object_limits
    ]
    alternatives: list[str] = []
    rollback = ""
    source = clients[0] if clients else None
    usable = limits.usable if limits is not None else probe.get("usable_slots")
    if (
        isinstance(usable, int)
        and source is not None
        and source.pool is not None
        and numbers.peak is not None
    ):
        others = numbers.peak - (source.peak or 0)
        headroom = max(5, usable // 10)
        per_pod = (usable - others - headroom) // max(source.peak_pods, 1)
        ref = clues.workload_ref(source.workload)
        var = source.pool_source.split("=", 1)[0]
        if 1 <= per_pod < source.pool and ref and "?" not in var:
            kind, ns, name = ref
            overflow = [p.split("=")[0].strip() for p in source.pool_source.split("+")[1:]]
            sets = " ".join([f"{var}={per_pod}", *(f"{o}=0" for o in overflow)])
            steps.append(
                model.FixStep(
                    description=f"Size {name}'s pool to the slots: ({usable} usable"
                    + (f" − {others} for other clients" if others else "")
                    + f" − {headroom} headroom) / {source.peak_pods} pods at peak"
                    f" = {per_pod} per pod:",
                    language="shell",
                    content=f"kubectl set env {kind}/{name} -n {ns} {sets}",
                    action={
                        "op": "set-env",
                        "target": objects.ref(source.workload),
                        "env": {var: str(per_pod), **{o: "0" for o in overflow}},
                    },
                )
            )
            rollback = (
                f"kubectl set env {kind}/{name} -n {ns} {source.pool_source.replace(' + ', ' ')}"
            )
        if numbers.peak > usable:
            alternatives.append(
                "put PgBouncer (pool_mode = transaction) in front of the database: "
                f"max_client_conn {_round_up(numbers.peak + 50)}, "
                f"max_db_connections {max(1, usable - headroom)} (default_pool_size counts per "
                "user and database, so cap the database as a whole); clients keep their pools, "
                "PgBouncer multiplexes them onto at most that many server connections"
            )
    idle = [s for s in objects.as_list(probe.get("idle_in_transaction")) if isinstance(s, dict)]
    users = sorted({str(s.get("user")) for s in idle if s.get("user")})
    for user in users:
        steps.append(
            model.FixStep(
                description=f"End {user}'s sessions idle in a transaction for over 5 minutes, and "
                "cap them "
                f"({_psql(scope)}):",
                language="sql",
                content="SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE state = "
                "'idle in transaction' "
                f"AND now() - state_change > interval '5 minutes' AND usename = '{user}';\n"
                f"ALTER ROLE {user} SET idle_in_transaction_session_timeout = '60s';",
                action={"op": "sql", "target": scope.target},
            )
        )
    if limits is not None and numbers.peak is not None and numbers.peak > limits.usable:
        steps.append(_raise_limit(scope, limits, numbers.peak))
    if not steps:
        alternatives.insert(0, "find who holds the slots: " + usage_command(scope))
    return model.Fix(
        summary="keep the pools under the usable slots"
        if steps
        else "find who holds the connection slots",
        steps=tuple(steps),
        alternatives=tuple(alternatives),
        rollback=rollback,
    )


def _object_limit(scope: resolve.Scope, kind: str, name: str, numbers: Arithmetic) -> model.FixStep:
    new = _round_up(numbers.peak + max(5, numbers.peak // 10)) if numbers.peak else -1
    return model.FixStep(
        description=f"The {kind.lower()}'s own CONNECTION LIMIT was hit, not max_connections: "
        + (f"raise it to the pools' peak {numbers.peak} plus headroom" if new > 0 else "lift it")
        + f" ({_psql(scope)}):",
        language="sql",
        content=f'ALTER {kind} "{name}" CONNECTION LIMIT {new};',
        action={"op": "sql", "target": scope.target},
    )


def _raise_limit(scope: resolve.Scope, limits: facts.ServerLimits, peak: int) -> model.FixStep:
    reserved = limits.superuser_reserved.value + limits.reserved.value
    new = _round_up(peak + reserved + max(5, peak // 10))
    more = new - limits.max_connections.value
    db = scope.target_pods[0] if scope.target_pods else None
    container = (
        next((c for c in pods.containers(db) if c.get("name") == limits.container), None)
        if db
        else None
    )
    limit = objects.as_dict(objects.as_dict((container or {}).get("resources")).get("limits")).get(
        "memory"
    )
    extra_mib = more * MIB_PER_CONNECTION
    cost = f"+{more} connections ≈ +{extra_mib} MiB plus work_mem per sort" + (
        f", against a {limit} memory limit" if limit else ""
    )
    limit_mib = _mib(limit)
    if limit_mib is not None and extra_mib * 2 > limit_mib:
        cost += " (too much for that limit: raise it too, or prefer the pooler)"
    desc = (
        f"Last resort: raise max_connections to {new}. It needs a restart (postmaster context; "
        f"pg_reload_conf() does not apply it); {cost}:"
    )
    workload = limits.workload
    found = _setting_position(limits, workload) if limits.max_connections.source == "args" else None
    if workload is not None and found is not None:
        ci, field, index, prefix = found
        patch = [
            {
                "op": "replace",
                "path": f"/spec/template/spec/containers/{ci}/{field}/{index}",
                "value": f"{prefix}max_connections={new}",
            }
        ]
        return model.FixStep(
            description=desc.replace(
                ". It needs", f" in the container {field} (they override ALTER SYSTEM). It needs"
            ),
            language="shell",
            content=f"kubectl -n {objects.namespace(workload)} patch "
            f"{str(workload.get('kind')).lower()} "
            f"{objects.name(workload)} --type json -p '{json.dumps(patch)}'",
            action={"op": "patch", "target": objects.ref(workload), "json_patch": patch},
        )
    return model.FixStep(
        description=desc.rstrip(":") + f"; run in {_psql(scope)}, then {_restart(limits)}:",
        language="sql",
        content=f"ALTER SYSTEM SET max_connections = {new};",
        action={"op": "sql", "target": scope.target},
    )


def _setting_position(
    limits: facts.ServerLimits, workload: Any
) -> tuple[int, str, int, str] | None:
    """(container index, "args"|"command", item index, prefix) of max_connections=N in the
    workload's container, where a JSON patch can change it; None when it is not there."""
    if workload is None:
        return None
    for ci, container in enumerate(pods.containers(workload)):
        if container.get("name") != limits.container:
            continue
        for field in ("args", "command"):
            for index, item in enumerate(objects.as_list(container.get(field))):
                text = str(item)
                bare = text.removeprefix("--").removeprefix("-c")
                if bare.startswith("max_connections="):
                    return ci, field, index, text[: len(text) - len(bare)]
    return None


def _psql(scope: resolve.Scope) -> str:
    if scope.target_pods:
        pod = scope.target_pods[0]
        return (
            f"kubectl -n {objects.namespace(pod)} exec -it {objects.name(pod)} -- psql -U postgres"
        )
    return f"psql -h {scope.target_host} -p {scope.port} -U postgres"


def _restart(limits: facts.ServerLimits) -> str:
    w = limits.workload
    if w is None:
        return "restart the PostgreSQL server"
    kind = str(w.get("kind")).lower()
    return f"kubectl -n {objects.namespace(w)} rollout restart {kind}/{objects.name(w)}"


def usage_command(scope: resolve.Scope) -> str:
    sql = (
        "SELECT usename, application_name, state, count(*) FROM pg_stat_activity "
        "WHERE backend_type = 'client backend' GROUP BY 1, 2, 3 ORDER BY 4 DESC;"
    )
    if scope.target_pods:
        pod = scope.target_pods[0]
        where = f"kubectl -n {objects.namespace(pod)} exec {objects.name(pod)}"
        return f'{where} -- psql -U postgres -c "{sql}"'
    return f'psql -h {scope.target_host} -p {scope.port} -U postgres -c "{sql}"'


def verify(scope: resolve.Scope, limits: facts.ServerLimits | None) -> str:
    usable = limits.usable if limits else "the usable slots"
    return (
        f"{usage_command(scope)}  # expect the counts to add up to less than {usable} at peak,"
        " and no new 'too many clients' lines in the client logs"
    )


def _mib(quantity: Any) -> float | None:
    """MiB in a memory quantity like 1Gi, 512Mi or 2G (None when unreadable)."""
    try:
        return quantities.bytes_(quantity) / quantities.MI
    except errors.InputError:
        return None


def _round_up(n: int) -> int:
    return int(math.ceil(n / 10.0) * 10)
