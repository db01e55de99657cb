"""How deep the property tests search: deep in CI, short on a developer's machine.

`.ci/run` sets PARAMEDIC_FUZZ=deep: every property test runs the number of examples its
decorator names (`fuzzing.depth(150)`). Without it each runs a twentieth of that (at least 5),
so a local run of the whole suite stays fast while CI keeps the search deep (a counterexample
CI finds is printed there as the falsifying call, to paste into a test). Property tests without
their own depth take the loaded Hypothesis profile ("deep": 100 examples, "short": 10).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

DEEP = os.environ.get("PARAMEDIC_FUZZ") == "deep"
PROFILE = "deep" if DEEP else "short"

settings.register_profile(
    "deep", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("short", parent=settings.get_profile("deep"), max_examples=10)
settings.load_profile(PROFILE)


def depth(examples: int) -> settings:
    """Settings for a property test that searches `examples` examples in CI."""
    return settings(
        max_examples=examples if DEEP else max(5, examples // 20),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
