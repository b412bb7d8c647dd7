"""What a signed-in person's session remembers: the keys, and the note of activity the idle limit counts from.

Sign-in (a page) and the session middleware both write these, so they live here, below both.
"""

import datetime as dt

from django.http import HttpRequest

from ketaclinic.accounts import selectors
from ketaclinic.core import clock

LAST_SEEN_KEY = "ketaclinic_last_seen"
TIME_ZONE_KEY = "ketaclinic_time_zone"
UNITS_KEY = "ketaclinic_units"

# Activity is written to the session at most this often: a write per request would be one more database
# write transaction for every page, fragment and API call (at the chair, competing with the monitor's
# readings). The session can only end this much earlier than the limit, never later.
LAST_SEEN_REFRESH = dt.timedelta(seconds=30)


def note_activity(request: HttpRequest) -> None:
    """Note the signed-in person's activity now, and let the session row live only the idle limit from now."""
    request.session[LAST_SEEN_KEY] = clock.now().isoformat()
    request.session.set_expiry(selectors.idle_session_timeout_min() * 60)
