"""Paramedic: executable incident runbooks for Kubernetes.

The package is laid out as the data flow it implements (see docs/ARCHITECTURE.md):
evidence (gather) -> kube/netpol (pure helpers) -> checks -> runbooks -> reports/remedies -> cli.
"""

import os as _os

__version__ = "0.1.0"

# yaml-rs allocates through mimalloc, which reserves 1 GiB of address space the moment it loads.
# Under a 2 GiB RLIMIT_AS (`prlimit --as`, a container's memory cap) that left too little room
# for the API worker threads' stacks ("can't start new thread"). mimalloc reads this when the
# library loads, so it is set here, before any module imports yaml-rs; arenas of 64 MiB are
# added as a parse needs them (no measurable cost on a 73 MB dump). A user's own value wins.
_os.environ.setdefault("MIMALLOC_ARENA_RESERVE", "64MiB")
