"""Counting hits per key and window in the database (`core.ratelimit`), shared by every web process."""

import datetime as dt

import pytest
from django.core.cache import cache
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core.models import RateWindow
from ketaclinic.core.ratelimit import KEEP_WINDOWS_FOR, count_hit, window_start
from ketaclinic.core.tokens import hash_token

HOUR = dt.timedelta(hours=1)
NOON = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)


@given(
    now=st.datetimes(
        min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)
    ),
    minutes=st.integers(min_value=1, max_value=24 * 60),
)
def test_the_window_holds_the_moment_and_starts_on_a_multiple_of_its_length(now, minutes) -> None:
    window = dt.timedelta(minutes=minutes)
    start = window_start(now, window)
    assert start <= now < start + window
    assert (start - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) % window == dt.timedelta(0)


@pytest.mark.django_db
def test_hits_count_up_within_a_window_and_start_again_in_the_next() -> None:
    counts = [
        count_hit(key="inquiry:203.0.113.9", now=NOON + dt.timedelta(minutes=m), window=HOUR)
        for m in (0, 20, 59)
    ]
    assert counts == [1, 2, 3]
    assert count_hit(key="inquiry:203.0.113.10", now=NOON, window=HOUR) == 1
    assert count_hit(key="inquiry:203.0.113.9", now=NOON + HOUR, window=HOUR) == 1


@pytest.mark.django_db
def test_the_count_is_in_the_database_under_a_hash_not_in_a_process_cache() -> None:
    for _ in range(3):
        count_hit(key="inquiry:203.0.113.9", now=NOON, window=HOUR)
    # Another web process has its own memory cache: emptying this one's changes nothing.
    cache.clear()
    row = RateWindow.objects.get()
    assert (row.key_hash, row.window_start, row.count) == (hash_token("inquiry:203.0.113.9"), NOON, 3)
    assert "203.0.113.9" not in row.key_hash
    assert count_hit(key="inquiry:203.0.113.9", now=NOON, window=HOUR) == 4


@pytest.mark.django_db
def test_windows_older_than_a_day_are_deleted_as_new_ones_are_counted() -> None:
    count_hit(key="inquiry:203.0.113.9", now=NOON, window=HOUR)
    count_hit(key="inquiry:203.0.113.9", now=NOON + KEEP_WINDOWS_FOR, window=HOUR)
    assert RateWindow.objects.count() == 2
    count_hit(key="inquiry:203.0.113.9", now=NOON + KEEP_WINDOWS_FOR + HOUR, window=HOUR)
    assert sorted(RateWindow.objects.values_list("window_start", flat=True)) == [
        NOON + KEEP_WINDOWS_FOR,
        NOON + KEEP_WINDOWS_FOR + HOUR,
    ]
