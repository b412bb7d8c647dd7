"""The portal's routes: the public site, the patient's and guardian's pages and the staff's inbox, visit
requests, invitations and site editor.

A patient's pages are registered with Lena's record: the demo patient (lena) opens them, the demo guardian
(claire, Noah's mother) gets 404 for them (`also_refused`), staff 403. tests/authz/test_portal_access.py
tries every one as another patient and as a guardian of another child too."""

from typing import Any

from ketaclinic.accounts.permissions import Perm as P
from ketaclinic.accounts.roles import Role
from tests.authz.harness import Op
from tests.authz.routes import api, get, ids, post
from tests.authz.world import World

PUBLIC = {
    "portal:public_page": "a page of the clinic's public site",
    "portal:accept_invitation": "the one-time portal invitation link (its token is the credential)",
}

LENA = ids("patient_id")
OWN = {"scoped": False, "also_refused": {Role.GUARDIAN: 404}}


def _own(*, args: Any = LENA, **kw: Any) -> Op:
    return get(P.VIEW_OWN_RECORD, args=args, **{**OWN, **kw})


def _form(values: dict[str, str]) -> Any:
    return lambda world: dict(values)


def _own_post(body: Any, *, args: Any = LENA, ok: int = 302, **kw: Any) -> Op:
    return post(
        P.VIEW_OWN_RECORD, body=body if callable(body) else _form(body), args=args, ok=ok, **{**OWN, **kw}
    )


def _new_consent_version(world: World) -> None:
    """A new privacy text, so Lena has a consent to sign (rolled back with the case)."""
    from ketaclinic.core import clock
    from ketaclinic.patients.models import ConsentKind
    from ketaclinic.patients.services import publish_consent_form

    publish_consent_form(
        by=world.user("admin"),
        kind=ConsentKind.PRIVACY,
        title="Privacy notice",
        body="The clinic's notice of privacy practices, second version.",
        effective_from=clock.now().date(),
    )


def _own_api(method: str, path_args: Any = LENA, *, body: Any = None, ok: int = 200, **kw: Any) -> Op:
    """A portal API operation on Lena's record: Lena gets `ok`, Claire 404, staff 403, anonymous 401."""
    return api(method, P.VIEW_OWN_RECORD, body=body, args=path_args, ok=ok, **{**OWN, **kw})


_VISIT = ids("patient_id", appointment_id="portal_unconfirmed_appointment_id")
_THREAD = ids("patient_id", thread_id="portal_thread_id")
_RECORD = "/api/portal/records/{patient_id}"


def _answers(world: World) -> dict[str, Any]:
    return {f"item_{key}": "0" for key in [*map(str, range(1, 10)), "difficulty"]}


ROUTES = {
    "portal:welcome": [get(P.VIEW_OWN_RECORD, scoped=False)],
    "portal:record": [_own()],
    "portal:visits": [_own()],
    "portal:confirm_instructions": [
        _own_post({}, args=ids("patient_id", appointment_id="portal_unconfirmed_appointment_id"))
    ],
    "portal:visit_request": [
        _own(args=ids("patient_id", appointment_id="portal_unconfirmed_appointment_id")),
        _own_post(
            {"kind": "reschedule", "note": "Any Friday afternoon"},
            args=ids("patient_id", appointment_id="portal_unconfirmed_appointment_id"),
        ),
    ],
    "portal:scales": [_own()],
    "portal:fill": [
        _own(args=ids("patient_id", request_id="portal_measure_request_id")),
        _own_post(_answers, args=ids("patient_id", request_id="portal_measure_request_id"), ok=200),
    ],
    "portal:progress": [_own()],
    "portal:consents": [_own()],
    "portal:consent_sign": [
        _own(args=lambda world: {"patient_id": world.ids["patient_id"], "kind": "privacy"}),
        _own_post(
            {"read_and_agreed": "on"},
            args=lambda world: {"patient_id": world.ids["patient_id"], "kind": "privacy"},
            prepare=_new_consent_version,
        ),
    ],
    "portal:messages": [_own()],
    "portal:message_new": [
        _own(),
        _own_post({"topic": "care", "subject": "Next visit", "body": "May I bring my partner?"}),
    ],
    "portal:message_thread": [
        _own(args=ids("patient_id", thread_id="portal_thread_id")),
        _own_post({"body": "Thank you."}, args=ids("patient_id", thread_id="portal_thread_id")),
    ],
    "portal:access_log": [_own()],
    # The portal API: the same selectors and services as the pages above.
    "GET /api/portal/me": [api("GET", P.VIEW_OWN_RECORD, scoped=False)],
    f"GET {_RECORD}/visits": [_own_api("GET")],
    f"POST {_RECORD}/visits/{{appointment_id}}/confirm-instructions": [_own_api("POST", _VISIT, ok=201)],
    f"POST {_RECORD}/visits/{{appointment_id}}/requests": [
        _own_api("POST", _VISIT, ok=201, body=lambda world: {"kind": "reschedule", "note": "Any Friday"})
    ],
    f"GET {_RECORD}/questionnaires": [_own_api("GET")],
    f"GET {_RECORD}/messages": [_own_api("GET")],
    f"POST {_RECORD}/messages": [
        _own_api(
            "POST",
            ok=201,
            body=lambda world: {"topic": "care", "subject": "Next visit", "body": "May I bring my partner?"},
        )
    ],
    f"GET {_RECORD}/messages/{{thread_id}}": [_own_api("GET", _THREAD)],
    f"POST {_RECORD}/messages/{{thread_id}}/replies": [
        _own_api("POST", _THREAD, ok=201, body=lambda world: {"body": "Thank you."})
    ],
    f"GET {_RECORD}/documents": [_own_api("GET")],
    f"GET {_RECORD}/access-log": [_own_api("GET")],
    # Staff: the inbox answers each role's topics (Lena's thread is a care question: nurses and clinicians).
    "portal:inbox": [get(P.ANSWER_PORTAL_MESSAGES, scoped=False)],
    "portal:inbox_thread": [
        get(
            P.ANSWER_PORTAL_MESSAGES,
            args=ids(thread_id="portal_thread_id"),
            also_refused={Role.FRONT_DESK: 404, Role.BILLING_CLERK: 404},
        ),
        post(
            P.ANSWER_PORTAL_MESSAGES,
            body=_form({"body": "We will see you on Friday."}),
            args=ids(thread_id="portal_thread_id"),
            also_refused={Role.FRONT_DESK: 404, Role.BILLING_CLERK: 404},
        ),
    ],
    "portal:visit_requests": [get(P.BOOK_APPOINTMENT, scoped=False)],
    "portal:visit_request_handle": [
        post(
            P.BOOK_APPOINTMENT,
            body=_form({"note": "Moved to Friday 2 pm."}),
            args=ids(request_id="portal_visit_request_id"),
        )
    ],
    "portal:invite": [
        get(P.INVITE_TO_PORTAL, args=ids(patient_id="portal_invitee_id")),
        post(
            P.INVITE_TO_PORTAL,
            body=lambda world: {"who": str(world.patients["maya"].guardians.get().pk), "email": ""},
            args=ids(patient_id="portal_invitee_id"),
            ok=200,
        ),
    ],
    "portal:site_pages": [get(P.EDIT_PUBLIC_SITE, scoped=False)],
    "portal:site_page_edit": [
        get(P.EDIT_PUBLIC_SITE, scoped=False, args=lambda world: {"slug": "costs"}),
        post(
            P.EDIT_PUBLIC_SITE,
            scoped=False,
            args=lambda world: {"slug": "costs"},
            body=_form(
                {
                    "title": "Costs",
                    "summary": "What treatment costs.",
                    "body": "Ask the front desk for prices.",
                }
            ),
        ),
    ],
}


def extend_world(world: World) -> None:
    """Rows the portal's routes name: one of Lena's infusions with unconfirmed instructions, an open
    questionnaire for her, her demo message thread, an open visit request and a patient to invite."""
    import datetime as dt

    from ketaclinic.core import clock
    from ketaclinic.measures import services as measure_services
    from ketaclinic.measures.models import Context, InstrumentDefinition
    from ketaclinic.portal import services
    from ketaclinic.portal.models import PortalMessage, VisitRequestKind
    from ketaclinic.scheduling.models import Appointment

    lena = world.patients["elena"]
    now = clock.now()
    booked = Appointment.objects.filter(patient=lena, status="booked", kind="infusion", starts_at__gt=now)
    unconfirmed = [item for item in booked.order_by("starts_at") if not item.confirmations.exists()]
    world.ids["portal_unconfirmed_appointment_id"] = unconfirmed[0].pk
    phq9 = InstrumentDefinition.objects.filter(clinic__isnull=True, key="phq9").order_by("-version").first()
    assert phq9 is not None
    world.ids["portal_measure_request_id"] = measure_services.request_measure(
        by=world.user("nurse"),
        patient=lena,
        instrument=phq9,
        context=Context.AD_HOC,
        due_at=now + dt.timedelta(days=1),
        send_email=False,
    ).pk
    thread = PortalMessage.objects.filter(patient=lena, thread__isnull=True).order_by("pk").first()
    assert thread is not None
    world.ids["portal_thread_id"] = thread.pk
    world.ids["portal_visit_request_id"] = services.request_visit_change(
        by=world.user("lena"),
        patient_id=lena.pk,
        appointment_id=unconfirmed[-1].pk,
        kind=VisitRequestKind.CANCEL,
        note="",
    ).pk
    world.ids["portal_invitee_id"] = world.patients["maya"].pk
