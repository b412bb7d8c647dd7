"""Counting requests per key and window in the database, shared by every web process.

`count_hit` adds one to a key's count in the window holding `now` and returns the new count, atomically: the
row is locked (PostgreSQL) or the database's one writer serialises it (SQLite), so two processes counting
at once never both see the same number. Windows older than a day are deleted as new ones are counted.
"""

import datetime as dt

from django.db import transaction
from django.db.models import F

from ketaclinic.core.models import RateWindow
from ketaclinic.core.tokens import hash_token

KEEP_WINDOWS_FOR = dt.timedelta(days=1)


def window_start(now: dt.datetime, window: dt.timedelta) -> dt.datetime:
    """The start of the fixed window of length `window` that holds `now` (windows start at the epoch)."""
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    elapsed = now - epoch
    return now - (elapsed % window)


@transaction.atomic
def count_hit(*, key: str, now: dt.datetime, window: dt.timedelta) -> int:
    """One more hit for `key` in the window holding `now`; its count in that window, this one included."""
    start = window_start(now, window)
    key_hash = hash_token(key)
    row, _created = RateWindow.objects.select_for_update().get_or_create(
        key_hash=key_hash, window_start=start, defaults={"count": 0}
    )
    RateWindow.objects.filter(pk=row.pk).update(count=F("count") + 1)
    RateWindow.objects.filter(window_start__lt=start - KEEP_WINDOWS_FOR).delete()
    return int(RateWindow.objects.filter(pk=row.pk).values_list("count", flat=True).get())
