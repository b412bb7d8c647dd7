"""Revoking a release authorisation: an append-only row with a reason; a revoked authorisation permits no
letter; the page and the API show it."""

import datetime as dt
import json
from typing import Any

import pytest
from django.db import DatabaseError, transaction

from conftest import make_user
from ketaclinic.accounts.roles import Role
from ketaclinic.audit.models import AuditEvent
from ketaclinic.core.errors import DomainError, PermissionDenied
from ketaclinic.notes.models import AuthorisationRevocation, LetterDispatch, ReleaseAuthorisation
from ketaclinic.notes.services import letters
from ketaclinic.notes.tests.test_letters_documents import _authorisation, _signed_letter

pytestmark = pytest.mark.django_db


def test_a_revoked_authorisation_permits_no_letter(clinician: Any, patient: Any) -> None:
    authorisation = _authorisation(clinician, patient)
    letter = _signed_letter(clinician, patient)
    letters.revoke_authorisation(
        by=clinician,
        authorisation=authorisation,
        revoked_on=dt.date(2026, 2, 1),
        reason="Phoned: withdraws it.",
    )
    with pytest.raises(DomainError) as refused:
        letters.send_letter(
            by=clinician,
            letter=letter,
            sent_to="Dr Park",
            method="fax",
            pdf=b"x",
            authorisation=authorisation,
        )
    assert refused.value.code == "no_release_authorisation"
    assert LetterDispatch.objects.count() == 0
    # Handing the letter to the patient needs no authorisation and still works.
    letters.send_letter(
        by=clinician, letter=letter, sent_to="Elena Marsh", method="handed", pdf=b"x", authorisation=None
    )
    row = ReleaseAuthorisation.objects.get(pk=authorisation.pk)
    assert row.revoked
    assert row.revocation.reason == "Phoned: withdraws it."
    assert AuditEvent.objects.filter(
        object_type="release_authorisation", object_id=str(authorisation.pk), summary__contains="revoked"
    ).exists()


def test_revoking_needs_a_reason_a_plausible_day_and_happens_once(clinician: Any, patient: Any) -> None:
    authorisation = _authorisation(clinician, patient)
    cases = [
        ({"revoked_on": dt.date(2026, 2, 1), "reason": "  "}, "reason"),
        ({"revoked_on": dt.date(2025, 12, 1), "reason": "Withdrawn."}, "revoked_on"),
        ({"revoked_on": dt.date(2099, 1, 1), "reason": "Withdrawn."}, "revoked_on"),
    ]
    for fields, field in cases:
        with pytest.raises(DomainError) as refused:
            letters.revoke_authorisation(by=clinician, authorisation=authorisation, **fields)
        assert refused.value.field == field
    letters.revoke_authorisation(
        by=clinician, authorisation=authorisation, revoked_on=dt.date(2026, 2, 1), reason="Withdrawn."
    )
    with pytest.raises(DomainError) as twice:
        letters.revoke_authorisation(
            by=clinician, authorisation=authorisation, revoked_on=dt.date(2026, 2, 2), reason="Again."
        )
    assert twice.value.code == "authorisation_already_revoked"
    assert AuthorisationRevocation.objects.count() == 1


def test_the_billing_clerk_cannot_revoke(clinic: Any, clinician: Any, patient: Any) -> None:
    authorisation = _authorisation(clinician, patient)
    with pytest.raises(PermissionDenied):
        letters.revoke_authorisation(
            by=make_user(Role.BILLING_CLERK, clinic),
            authorisation=authorisation,
            revoked_on=dt.date(2026, 2, 1),
            reason="Withdrawn.",
        )


def test_a_revocation_is_append_only(clinician: Any, patient: Any) -> None:
    authorisation = _authorisation(clinician, patient)
    row = letters.revoke_authorisation(
        by=clinician, authorisation=authorisation, revoked_on=dt.date(2026, 2, 1), reason="Withdrawn."
    )
    for attempt in (
        lambda: AuthorisationRevocation.objects.filter(pk=row.pk).update(reason="Changed"),
        lambda: AuthorisationRevocation.objects.filter(pk=row.pk).delete(),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            attempt()


def test_the_page_shows_the_revocation_and_stops_offering_it(
    client_for: Any, clinician: Any, patient: Any
) -> None:
    client = client_for(clinician)
    authorisation = _authorisation(clinician, patient)
    letter = _signed_letter(clinician, patient)
    refused = client.post(f"/notes/authorisations/{authorisation.pk}/revoke/", {"revoked_on": "2026-02-01"})
    assert refused.status_code == 422
    assert "This field is required" in refused.content.decode()
    response = client.post(
        f"/notes/authorisations/{authorisation.pk}/revoke/",
        {"revoked_on": "2026-02-01", "reason": "Asked us by phone to stop."},
    )
    assert response.status_code == 302
    page = client.get(f"/notes/patients/{patient.pk}/letters/").content.decode()
    assert "Revoked" in page
    assert "Asked us by phone to stop." in page
    send_page = client.get(f"/notes/letters/{letter.pk}/").content.decode()
    assert f'value="{authorisation.pk}"' not in send_page
    posted = client.post(
        f"/notes/letters/{letter.pk}/send/",
        {"sent_to": "Dr Park", "method": "fax", "authorisation": str(authorisation.pk)},
    )
    assert posted.status_code == 422
    assert LetterDispatch.objects.count() == 0


def test_the_api_lists_and_revokes(client_for: Any, clinician: Any, patient: Any) -> None:
    client = client_for(clinician)
    authorisation = _authorisation(clinician, patient)
    response = client.post(
        f"/api/notes/authorisations/{authorisation.pk}/revoke",
        data=json.dumps({"revoked_on": "2026-02-01", "reason": "Withdrawn in writing."}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["revocation"]["reason"] == "Withdrawn in writing."
    listed = client.get(f"/api/notes/patients/{patient.pk}/authorisations").json()
    assert [(row["id"], row["revoked"]) for row in listed] == [(authorisation.pk, True)]
    again = client.post(
        f"/api/notes/authorisations/{authorisation.pk}/revoke",
        data=json.dumps({"revoked_on": "2026-02-01", "reason": "Again."}),
        content_type="application/json",
    )
    assert again.status_code == 409
