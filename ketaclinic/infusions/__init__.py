"""The infusion visit: check-in, pump events, live vital signs, alerts, side effects, recovery, discharge."""
