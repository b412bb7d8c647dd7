"""Wakes the live chair screens and the board when a visit changes."""


def visit_changed(*, visit_id: int) -> None:
    """Tell this process's live streams that `visit_id` has new rows."""
    del visit_id
