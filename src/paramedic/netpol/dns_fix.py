"""The DNS egress fix, built by the one patch path: what opens UDP and TCP DNS from a pod.

The destination is every kube-dns pod (those the kube-system/kube-dns Service selects), named by
its workload's selector; the ports are what the Service's port 53 translates to on those pods
(its targetPort, by name when the container names it), per protocol - never a hard-coded 53. The
policy selects the source by its identifying labels (generated ones such as pod-template-hash
stripped), in the source's namespace. Its blast radius is the matrix before/after on each port,
as for every fix; `opens_flow` is checked on the patched evidence, not assumed.
"""

from __future__ import annotations

from typing import Any

from paramedic.evidence import model as evidence_model
from paramedic.evidence import yamltext
from paramedic.netpol import blast, cluster, engine, explain, model, naming, patch, peers


def dns_patch(
    evidence: evidence_model.Evidence,
    src: peers.Peer,
    semantics: model.Semantics = model.DEFAULT,
) -> patch.Patch:
    """One NetworkPolicy allowing DNS from `src` to kube-dns on both protocols, if blocked."""
    results = [
        (dst, r)
        for dst in engine.dns_pods(evidence)
        for r in engine.dns_egress(evidence, src, semantics)
        if r.dst == dst.ref and not r.egress.allowed
    ]
    if not results:
        return patch.Patch(opens_flow=True, notes=("DNS egress is already allowed",))
    src_sel, src_name, src_note = naming.identity(evidence, src)
    dst = results[0][0]
    dst_sel, _, dst_note = naming.identity(evidence, dst)
    ports: list[dict[str, Any]] = []
    wanted: list[tuple[peers.Peer, int, str, int | str]] = []
    for peer, r in results:
        value: int | str = naming.port_name(peer, r.port, r.protocol) or r.port
        entry = {"protocol": r.protocol, "port": value}
        if entry not in ports:
            ports.append(entry)
        wanted.append((peer, r.port, r.protocol, value))
    rule = {"to": [naming.peer_entry(dst, dst_sel)], "ports": ports}
    name = naming.free_name(
        evidence, src.namespace, naming.dns_name(f"allow-{src_name}-dns"), "egress", False
    )
    obj = naming.policy_object(src.namespace, name, src_sel, model.Direction.EGRESS, rule)
    patched = evidence_model.Evidence.of((*evidence.objects, obj))
    cluster.adopt(patched, evidence, added=(obj,))
    opened: list[blast.Flow] = []
    closed: list[blast.Flow] = []
    opens = True
    for peer, port, protocol, value in wanted:
        after = explain.flow(cluster.of(patched), src, peer, port, protocol, semantics)
        opens = opens and after.egress.allowed
        more, fewer = blast.diff(evidence, patched, src, peer, port, protocol, value, semantics)
        opened += [f for f in more if f not in opened]
        closed += [f for f in fewer if f not in closed]
    return patch.Patch(
        objects=(obj,),
        yaml=yamltext.manifests(obj),
        sides=("egress",),
        blast_radius=tuple(opened),
        closed=tuple(closed),
        opens_flow=opens,
        notes=tuple(n for n in (src_note, dst_note) if n),
    )
