"""The shared fixed-window counter behind every rate limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from proportrait import ratelimit


def test_counts_grow_within_a_window_and_restart_in_the_next() -> None:
    start = datetime(2026, 6, 1, 10, 0, 5, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        assert [ratelimit.hit("t:a", 3600) for _ in range(3)] == [1, 2, 3]
        assert ratelimit.count("t:a", 3600) == 3
        assert ratelimit.count("t:b", 3600) == 0  # names do not share counts
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        # The window is named by the application's clock, whatever the cache server's TTL says.
        assert ratelimit.count("t:a", 3600) == 0
        assert ratelimit.hit("t:a", 3600) == 1


def test_clear_forgets_the_current_window() -> None:
    ratelimit.hit("t:c", 60)
    ratelimit.clear("t:c", 60)
    assert ratelimit.count("t:c", 60) == 0
