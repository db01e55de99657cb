"""The NetworkPolicy engine: pure functions from evidence to exact, explained connectivity answers.

    policies   parse + validate networking.k8s.io/v1 NetworkPolicy objects (API server rules)
    cluster    the per-evidence view the engine works on (namespaces, pods, policies), cached
    peers      `Peer` (a pod, a pod template, or an IP); resolving "ns/name", IPs, Services
    explain    the straightforward per-pair evaluator with per-direction explanations (the oracle)
    engine     the public API: check_flow, dns_egress
    fast       equivalence classes of pods + Python-int bitsets for all-pairs answers
    matrix     the public all-pairs API (fast engine) and the oracle matrix used to test it
    patch      the minimal NetworkPolicy that opens exactly a denied flow
    blast      blast radius: every flow a change opens (or closes), from the matrix before/after
    scope      the flows an incident Scope stands for (source pods, target pods on their ports)
    expectations  `netpol assert` files: parse and evaluate

No module here does I/O. Semantics follow upstream Kubernetes conformance by default; the
CNI-dependent points are switches on `model.Semantics`.
"""
