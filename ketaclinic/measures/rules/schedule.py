"""When scales are due: a pure rule over anchor events and the protocol's offsets. No Django here.

Anchors are the assessment, each infusion (before it, 24 hours and 1 week after) and explicit requests. The
infusions are those the infusions app noted in measures' own log (`InfusionGiven`, withdrawn ones left out).
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class AnchorKind(StrEnum):
    ASSESSMENT = "assessment"
    INFUSION = "infusion"
    MAINTENANCE = "maintenance"
    REQUEST = "request"


class DueState(StrEnum):
    UPCOMING = "upcoming"
    DUE = "due"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class Anchor:
    kind: AnchorKind
    at: dt.datetime
    instrument_key: str = ""
    context: str = ""
    request_id: int | None = None


@dataclass(frozen=True)
class Done:
    instrument_key: str
    context: str
    administered_at: dt.datetime


@dataclass(frozen=True)
class Offsets:
    post_infusion_early: dt.timedelta
    post_infusion_late: dt.timedelta
    overdue_after: dt.timedelta


@dataclass(frozen=True)
class DueScale:
    instrument_key: str
    context: str
    due_at: dt.datetime
    state: DueState
    request_id: int | None = None


def _expected(
    anchor: Anchor, *, baseline_keys: Sequence[str], follow_up_keys: Sequence[str], offsets: Offsets
) -> list[tuple[str, str, dt.datetime]]:
    match anchor.kind:
        case AnchorKind.ASSESSMENT:
            return [(key, "assessment", anchor.at) for key in baseline_keys]
        case AnchorKind.INFUSION:
            return [
                entry
                for key in follow_up_keys
                for entry in (
                    (key, "pre_infusion", anchor.at),
                    (key, "post_infusion_24h", anchor.at + offsets.post_infusion_early),
                    (key, "post_infusion_1w", anchor.at + offsets.post_infusion_late),
                )
            ]
        case AnchorKind.MAINTENANCE:
            return [(key, "maintenance", anchor.at) for key in follow_up_keys]
        case AnchorKind.REQUEST:
            return [(anchor.instrument_key, anchor.context, anchor.at)]


def state_of(due_at: dt.datetime, now: dt.datetime, overdue_after: dt.timedelta) -> DueState:
    if now < due_at:
        return DueState.UPCOMING
    if now > due_at + overdue_after:
        return DueState.OVERDUE
    return DueState.DUE


def due_scales(
    *,
    anchors: Sequence[Anchor],
    done: Sequence[Done],
    baseline_keys: Sequence[str],
    follow_up_keys: Sequence[str],
    offsets: Offsets,
    now: dt.datetime,
) -> list[DueScale]:
    """Scales expected from the anchors and not yet done, soonest first.

    A scheduled scale counts as done when the same instrument was given in the same context no earlier than
    `overdue_after` before it was due (a rating taken a little early counts). A request is listed until it is
    completed (the caller passes only open requests).
    """
    found: list[DueScale] = []
    for anchor in anchors:
        for key, context, due_at in _expected(
            anchor, baseline_keys=baseline_keys, follow_up_keys=follow_up_keys, offsets=offsets
        ):
            satisfied = anchor.kind is not AnchorKind.REQUEST and any(
                item.instrument_key == key
                and item.context == context
                and item.administered_at >= due_at - offsets.overdue_after
                for item in done
            )
            if not satisfied:
                found.append(
                    DueScale(
                        key, context, due_at, state_of(due_at, now, offsets.overdue_after), anchor.request_id
                    )
                )
    return sorted(found, key=lambda item: (item.due_at, item.instrument_key, item.context))
