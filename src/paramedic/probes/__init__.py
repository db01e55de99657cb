"""Live probes: measure a TCP port, a DNS name or a PostgreSQL server, bounded and classified.

Each probe is a function that returns an `evidence.probes_file.ProbeResult` and never raises
for a network failure: a refused port, a missing database or a silent firewall is an outcome,
recorded as evidence. Every probe returns within its timeout plus half a second, even against
a black hole (`bounded` runs the calls that cannot be interrupted in a helper thread).

    tcp.probe       connect (open, refused, timeout, unreachable, reset, dns-error)
    dns.probe       one query per name tried (resolved, nxdomain, servfail, refused, timeout)
    postgres.probe  connect, then read slots and who holds them (ok, auth-failed, ...)
    runner.run_all  several probes at once under one overall deadline
"""
