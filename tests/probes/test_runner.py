"""`probes.runner.run_all`: real probes at once, under one deadline, results in order."""

from __future__ import annotations

import json
import time

import pytest

from paramedic.evidence import probes_file
from paramedic.probes import outcomes, runner

from . import probefix_dns, probefix_pg


def test_probes_run_concurrently_and_come_back_in_order(
    listener: tuple[str, int],
    dns_zone: probefix_dns.Dnsmasq,
    dns_silent: probefix_dns.Dnsmasq,
    pg: probefix_pg.Server,
) -> None:
    specs = [
        runner.dns_spec(
            "db.example.test", server=dns_silent.host, port=dns_silent.port, timeout=1.0
        ),
        runner.tcp_spec(*listener),
        runner.dns_spec("db.example.test", server=dns_zone.host, port=dns_zone.port),
        runner.postgres_spec(pg.dsn("app")),
        runner.dns_spec(
            "db.example.test", server=dns_silent.host, port=dns_silent.port, timeout=1.0
        ),
    ]
    began = time.monotonic()
    results = runner.run_all(specs, deadline=5)
    wall = time.monotonic() - began
    assert [r.outcome for r in results] == ["timeout", "open", "resolved", "ok", "timeout"]
    assert [r.kind for r in results] == ["dns", "tcp", "dns", "postgres", "dns"]
    assert wall < 1.8  # two 1 s black holes side by side, not one after the other
    assert all(r.outcome in set(outcomes.BY_KIND[r.kind]) for r in results)
    assert json.loads(probes_file.dumps(results))["probes"][0]["outcome"] == "timeout"


def test_deadline_shorter_than_the_probes_own_timeouts_cuts_them_down(
    dns_silent: probefix_dns.Dnsmasq,
) -> None:
    specs = [
        runner.dns_spec(
            "db.example.test", server=dns_silent.host, port=dns_silent.port, timeout=3.0
        )
        for _ in range(3)
    ]
    began = time.monotonic()
    results = runner.run_all(specs, deadline=0.5)
    assert time.monotonic() - began < 1.0
    assert {r.outcome for r in results} == {"timeout"}


def _stuck(seconds: float) -> probes_file.ProbeResult:
    time.sleep(3)  # ignores its limit, as a buggy probe would
    raise AssertionError("never used")


def _crash(seconds: float) -> probes_file.ProbeResult:
    raise RuntimeError("boom")


@pytest.mark.parametrize(
    ("spec", "outcome"),
    [
        (runner.Spec(kind="tcp", target="stuck:1", timeout=1.0, call=_stuck), "timeout"),
        (
            runner.Spec(kind="postgres", target="postgresql://x@y/z", timeout=1.0, call=_crash),
            "error",
        ),
    ],
)
def test_probe_that_overruns_or_crashes_becomes_a_result_not_an_exception(
    spec: runner.Spec, outcome: str
) -> None:
    began = time.monotonic()
    [result] = runner.run_all([spec], deadline=0.5)
    assert time.monotonic() - began < 1.0
    assert (result.kind, result.target, result.outcome) == (spec.kind, spec.target, outcome)


def test_no_specs_give_no_results() -> None:
    assert runner.run_all([], deadline=1) == []


def test_postgres_spec_target_hides_the_password() -> None:
    spec = runner.postgres_spec("postgresql://app:hunter2@db.data:5432/profiles")
    assert spec.target == "postgresql://app@db.data:5432/profiles"
