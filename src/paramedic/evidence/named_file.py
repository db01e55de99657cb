"""Reading a file the user names on the command line or in a kubeconfig: only a regular file,
only up to a documented size, and every problem one line naming the file (exit 2).

`/dev/zero` as a password file, `/dev/full` as a probes.json, a FIFO nobody writes to: none is
opened for reading, so none can exhaust memory or hang the run. The caps are documented in
docs/PROBES.md and docs/LIVE.md:
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from paramedic import errors

KIB = 1024
MIB = 1024 * KIB

PASSWORD_FILE = 64 * KIB
"""--password-file: one password, with room for a certificate-sized secret."""
KUBECONFIG = 16 * MIB
"""A kubeconfig file (large ones with hundreds of contexts are ~1 MiB)."""
KUBECONFIG_REFERENCE = 8 * MIB
"""A file a kubeconfig names: tokenFile, client-certificate, client-key, certificate-authority."""
PROBES_JSON = 64 * MIB
"""An existing probes.json that --record adds to."""
EXPECTATIONS = 16 * MIB
"""`netpol assert` EXPECTATIONS.yaml."""


def read(path: str | Path, *, limit: int, what: str) -> bytes:
    """The bytes of a regular file of at most `limit` bytes, else InputError naming it."""
    where = f"{what} {path}" if what else str(path)
    check(path, limit=limit, what=what)
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise errors.InputError(f"{where}: cannot read ({exc.strerror or exc})") from exc
    if len(data) > limit:  # it grew after the check
        raise errors.InputError(f"{where}: over the {size(limit)} limit")
    return data


def check(path: str | Path, *, limit: int, what: str) -> None:
    """InputError unless `path` (links followed) is a regular file of at most `limit` bytes."""
    where = f"{what} {path}" if what else str(path)
    try:
        st = os.stat(path)
    except FileNotFoundError as exc:
        raise errors.InputError(f"{where}: no such file") from exc
    except OSError as exc:
        raise errors.InputError(f"{where}: cannot read ({exc.strerror or exc})") from exc
    if not stat.S_ISREG(st.st_mode):
        raise errors.InputError(f"{where}: not a regular file")
    if st.st_size > limit:
        raise errors.InputError(f"{where}: {size(st.st_size)} is over the {size(limit)} limit")


def size(n: int) -> str:
    """'16 MiB', '64 KiB', '900 bytes'."""
    for unit, factor in (("GiB", 1024 * MIB), ("MiB", MIB), ("KiB", KIB)):
        if n >= factor:
            return f"{n / factor:.0f} {unit}"
    return f"{n} bytes"
