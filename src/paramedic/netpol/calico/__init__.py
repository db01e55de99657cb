"""Calico's policy model: its selector language, its objects and its verdict on a flow.

    tokens     the selector tokenizer (Calico's lexical rules; errors carry the column)
    selector   the selector tree: evaluation against a label map, canonical text
    parser     selector text -> tree (Calico's grammar and precedence)
    rules      one policy rule: action, protocol, source/destination, ports, nets (validated)
    resources  Tier, (Global)NetworkPolicy, Staged*, (Global)NetworkSet -> values or Invalid
    compose    the label map Calico sees per endpoint, and policy fields rewritten into its terms
    view       every Calico object of one Evidence, parsed once, with what is unmodelled and why
    match      rule matching and the walk through tiers for one side of a flow

Semantics are Calico's own, from its reference docs and the behaviour of its policy code (read
for facts); docs/NETPOL.md ("Calico") states them with what is not modelled and why.
"""
