"""A live run fits in 2 GiB of address space (issue 15: every adversarial item within 2 GiB).

yaml-rs's allocator reserved 1 GiB of address space at import, and the 16 API worker threads
(an 8 MiB stack and a 64 MiB malloc arena each) the rest: under `prlimit --as=2147483648` a live
diagnose ended with exit 3, "can't start new thread". The run here is a child process whose
RLIMIT_AS is set before it starts, against the fake API server: a genuinely started process, not
a fork of the tests' fork server, whose address space at the fork is not what a start has."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from . import livekit

TWO_GIB = 2 * 1024 * 1024 * 1024


def test_a_live_diagnose_runs_within_two_gib_of_address_space(tmp_path: Path) -> None:
    with livekit.seed_server() as server:
        server.slow["/api"] = 0.3  # every worker thread alive at once, as with a distant server
        kubeconfig = server.kubeconfig(tmp_path / "kubeconfig", namespace="app")
        _, status, out, err = livekit.program(
            kubeconfig, "-o", "json", timeout=30, memory=TWO_GIB, fresh=True
        )
    assert status in (0, 1), err
    assert err == ""
    report = json.loads(out)
    assert report["schema"] == "paramedic.diagnosis/v1"
    assert not [g for g in report.get("gaps", []) if "no answer" in str(g)]


def test_loading_the_bundle_parsers_reserves_little_address_space() -> None:
    """What made the run above fail only now and then (when enough threads got a malloc arena):
    the 1 GiB yaml-rs reserved on import, measured directly."""
    code = (
        "import paramedic.evidence.bundle, paramedic.gather.live;"
        "print([int(l.split()[1]) for l in open('/proc/self/status')"
        " if l.startswith('VmSize')][0])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert int(done.stdout) < 512 * 1024  # kB; it was over 1 GiB
