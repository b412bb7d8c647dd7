"""The demo clinic: who works there and which patients it has. Demo only: never use these on real data."""

import datetime as dt
import hashlib

from ketaclinic.accounts.roles import Role

DEMO_PASSWORD = "ketaclinic-demo-2026"
DEMO_ORGANISATION = "Northlight Ketamine Clinics (demo)"
DEMO_CLINICS = [
    # code, name, time zone, city, region
    ("main", "Northlight Main Street", "America/New_York", "Burlington", "VT"),
    ("lake", "Northlight Lakeside", "America/Chicago", "Madison", "WI"),
]

# username, first, last, credentials, role, clinic codes
DEMO_STAFF = [
    ("admin", "Avery", "Admin", "", Role.CLINIC_ADMIN, ["main", "lake"]),
    ("drchen", "Maya", "Chen", "MD", Role.CLINICIAN, ["main"]),
    ("drokafor", "Daniel", "Okafor", "NP", Role.CLINICIAN, ["lake"]),
    ("nurse", "Rosa", "Alvarez", "RN", Role.NURSE, ["main"]),
    ("frontdesk", "Jordan", "Price", "", Role.FRONT_DESK, ["main"]),
    ("billing", "Priya", "Natarajan", "", Role.BILLING_CLERK, ["main", "lake"]),
    ("custodian", "Sam", "Becker", "PharmD", Role.CUSTODIAN, ["main"]),
    ("therapist", "Jamie", "Ortiz", "LCSW", Role.THERAPIST, ["main"]),
    # An integration account, not a person: the bedside monitors' gateway (the simulator runs as it). It has
    # no password; a clinic admin issues its API tokens on the staff page.
    ("monitor-gateway", "Chair", "Monitors", "", Role.MONITOR_GATEWAY, ["main", "lake"]),
    # An integration account reading the main clinic's records over FHIR (a referring practice's EHR): no
    # password; an admin issues its token.
    ("fhir-client", "Referral", "EHR", "", Role.FHIR_CLIENT, ["main"]),
]

# Staff whose demo sign-in includes a TOTP device (all roles that require one, and the nurse).
DEMO_TOTP_USERS = ["admin", "drchen", "drokafor", "nurse", "custodian", "therapist"]


def demo_totp_key_hex(username: str) -> str:
    """A fixed 20-byte key per demo user, so `manage.py demo_totp` and tests can produce codes."""
    return hashlib.sha1(f"ketaclinic-demo-totp:{username}".encode(), usedforsecurity=False).hexdigest()


def years_ago(today: dt.date, years: int, month: int, day: int) -> dt.date:
    return dt.date(today.year - years, month, day)
