"""What each AuthorizationPolicy field and `when` attribute means on a TCP connection.

Meanings: `principal`, `namespace`, `serviceAccount`, `trustDomain` (the peer's mTLS identity),
`ip` (the source address; `remoteIpBlocks` too: without a proxy protocol header or
X-Forwarded-For, on plain TCP the remote address is the source address), `port` (the
destination port), `http` (HTTP-only: never set on a TCP connection) and `unmodelled` (the
destination address, SNI and Envoy filter state, which paramedic does not evaluate). The keys
are those Istio's authorization model accepts (its `when` attribute list and the Source and
Operation fields).
"""

from __future__ import annotations

SOURCE_FIELDS = {
    "principals": "principal",
    "notPrincipals": "principal",
    "namespaces": "namespace",
    "notNamespaces": "namespace",
    "serviceAccounts": "serviceAccount",
    "notServiceAccounts": "serviceAccount",
    "trustDomains": "trustDomain",
    "notTrustDomains": "trustDomain",
    "ipBlocks": "ip",
    "notIpBlocks": "ip",
    "remoteIpBlocks": "ip",
    "notRemoteIpBlocks": "ip",
    "requestPrincipals": "http",
    "notRequestPrincipals": "http",
}
OPERATION_FIELDS = {
    "ports": "port",
    "notPorts": "port",
    "hosts": "http",
    "notHosts": "http",
    "methods": "http",
    "notMethods": "http",
    "paths": "http",
    "notPaths": "http",
}
WHEN_KEYS = {
    "source.ip": "ip",
    "remote.ip": "ip",
    "source.namespace": "namespace",
    "source.principal": "principal",
    "source.serviceAccount": "serviceAccount",
    "source.trustDomain": "trustDomain",
    "destination.port": "port",
    "destination.ip": "unmodelled",
    "connection.sni": "unmodelled",
    "request.auth.principal": "http",
    "request.auth.audiences": "http",
    "request.auth.presenter": "http",
}
WHEN_PREFIXES = {
    "request.headers[": "http",
    "request.auth.claims[": "http",
    "experimental.envoy.filters.": "unmodelled",
}
"""Every attribute Istio accepts in `when`, by what it means on a TCP connection."""
