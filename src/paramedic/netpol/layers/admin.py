"""The admin and baseline tiers: AdminNetworkPolicy, BaselineAdminNetworkPolicy and
ClusterNetworkPolicy (policy.networking.k8s.io), compiled by `admin_parse`.

    admin     (stage ADMIN, before NetworkPolicy)  ANPs and Admin-tier CNPs, lower priority
              first (ties: kind, then name - the API leaves equal priorities to the
              implementation), rules in order; Allow/Accept and Deny are final, Pass goes on to
              the NetworkPolicy tier. End of tier: Pass - an admin policy never isolates.
    baseline  (stage BASELINE, after NetworkPolicy; reached only by pods no NetworkPolicy
              isolates for that direction) the BANP "default" and Baseline-tier CNPs, the same
              way; end: Pass to Kubernetes' default allow.
"""

from __future__ import annotations

from paramedic.netpol import form
from paramedic.netpol.layers import admin_parse, base

KINDS = frozenset(
    (admin_parse.GROUP, k) for k in (admin_parse.ANP, admin_parse.BANP, admin_parse.CNP)
)


def _compile(ctx: base.Context, tier: str) -> base.Output:
    chosen: list[form.Policy] = []
    invalid: list[form.Invalid] = []
    unknown: list[form.Unmodelled] = []
    for kind in (admin_parse.ANP, admin_parse.BANP, admin_parse.CNP):
        for obj in ctx.view.objects(kind):
            if str(obj.get("apiVersion", "")).rpartition("/")[0] != admin_parse.GROUP:
                continue
            where, parsed, notes = admin_parse.parse(obj)
            if where != tier:
                continue
            if isinstance(parsed, form.Invalid):
                invalid.append(parsed)
                continue
            chosen.append(parsed)
            unknown += (
                form.Unmodelled(
                    kind=kind,
                    api_version=str(obj.get("apiVersion")),
                    namespace="",
                    name=parsed.name,
                    why=note,
                    command=f"kubectl get {form.resource(kind, admin_parse.GROUP)} {parsed.name} "
                    "-o yaml",
                )
                for note in notes
            )
    chosen.sort(key=lambda p: (p.order or 0.0, p.kind, p.name))
    return base.Output(
        tiers=(form.Tier.of(tier, tier, form.Action.PASS, chosen),) if chosen else (),
        invalid=tuple(invalid),
        unmodelled=tuple(unknown),
    )


def compile_admin(ctx: base.Context) -> base.Output:
    return _compile(ctx, "admin")


def compile_baseline(ctx: base.Context) -> base.Output:
    return _compile(ctx, "baseline")


LAYERS = (
    base.Layer(name="admin", stage=base.ADMIN, kinds=KINDS, compile=compile_admin),
    base.Layer(name="baseline", stage=base.BASELINE, kinds=KINDS, compile=compile_baseline),
)
