"""Paramedic: executable incident runbooks for Kubernetes.

The package is laid out as the data flow it implements (see docs/ARCHITECTURE.md):
evidence (gather) -> kube/netpol (pure helpers) -> checks -> runbooks -> reports/remedies -> cli.
"""

__version__ = "0.1.0"
