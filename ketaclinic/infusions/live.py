"""Wakes the live chair screens and board when a visit changes (the fan-out is built on branch infusions-live)."""


def visit_changed(*, visit_id: int) -> None:
    """Tell this process's live streams that `visit_id` has new rows."""
    del visit_id
