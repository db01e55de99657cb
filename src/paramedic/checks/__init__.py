"""Checks: pure functions from evidence to one finding each.

One subpackage per check, all of the same shape, so that a reader knows where everything of a
check lives:

    checks/<check>/__init__.py   registers `run` (short: it calls the detectors in order)
    checks/<check>/detect.py     detectors: evidence -> facts -> the first problem -> one finding
    checks/<check>/facts.py      (when needed) what the objects say, before any verdict
    checks/<check>/fixes.py      (when needed) the exact remedy for each problem

What several checks share lives here, at the top: `model` (Finding, Remedy, Priority, Context),
`registry` (the `@check` decorator and its id, title and needs), `clues` (log lines and events
classified by `signatures`), `dns_names` (host names a client is configured with) and `builtin`
(the list of check packages).
"""
