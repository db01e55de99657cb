"""Istio's policies, for TCP: AuthorizationPolicy and PeerAuthentication (`security.istio.io`).

`mesh` reads the mesh config and what the mesh knows of a pod (sidecar, identity), `resources`
parses and validates the policy objects, `match` holds the predicates the compiled form matches
(identities, workload selectors), `fix` writes the fixes. `paramedic.netpol.layers.istio` compiles
all of it into the one form, at the enforcement point of the sidecar proxy.
"""
