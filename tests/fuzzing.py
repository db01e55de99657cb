"""How deep the property tests search: deep in CI, short on a developer's machine.

`.ci/run` sets PARAMEDIC_FUZZ=deep: every property test runs the number of examples its
decorator names (`fuzzing.depth(150)`). Without it each runs a tenth of that (at least 10), so a
local run of the whole suite stays fast while CI keeps the search deep. Property tests without
their own depth take the loaded Hypothesis profile ("deep": 100 examples, "short": 20).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

DEEP = os.environ.get("PARAMEDIC_FUZZ") == "deep"
PROFILE = "deep" if DEEP else "short"

settings.register_profile(
    "deep", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("short", parent=settings.get_profile("deep"), max_examples=20)
settings.load_profile(PROFILE)


def depth(examples: int) -> settings:
    """Settings for a property test that searches `examples` examples in CI."""
    return settings(
        max_examples=examples if DEEP else max(10, examples // 10),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
