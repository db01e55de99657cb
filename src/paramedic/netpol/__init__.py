"""The policy engine: pure functions from evidence to exact, explained connectivity answers.

    form       the compiled form every policy kind compiles into (tiers -> policies -> rules
               with Allow/Deny/Pass) and the one meaning explain and fast give it
    layers/    one module per layer compiling its kinds into tiers (the plug-in seam), the
               registry, CNI detection, the safety net listing what no layer evaluates
    labelmatch Kubernetes label selectors as the form's label predicates
    policies   parse + validate networking.k8s.io/v1 NetworkPolicy objects (API server rules)
    cluster    the per-evidence view the engine works on (namespaces, pods, policies), cached
    peers      `Peer` (a pod, a pod template, or an IP); resolving "ns/name", IPs, Services
    explain    the per-pair evaluator of the form, with per-direction explanations (the oracle)
    engine     the public API: check_flow, dns_egress
    fast       the all-pairs evaluator of the form: pod classes + Python-int bitsets
    matrix     the public all-pairs API (fast engine) and the oracle matrix used to test it
    patch      the minimal change that opens exactly a denied flow (admin_fix: in the admin tier)
    dns_fix    the DNS egress fix, through the same patch path
    blast      blast radius: every flow a change opens (or closes), from the matrix before/after
    scope      the flows an incident Scope stands for (source pods, target pods on their ports)
    expectations  `netpol assert` files: parse and evaluate

No module here does I/O. Semantics follow upstream Kubernetes conformance by default; the
CNI-dependent points are switches on `model.Semantics`.
"""
