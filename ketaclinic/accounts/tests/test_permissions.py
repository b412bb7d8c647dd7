"""The role x permission table, checked cell by cell (pure: no database)."""

import pytest

from ketaclinic.accounts.permissions import ROLE_PERMISSIONS, Perm, role_can
from ketaclinic.accounts.roles import Role

CHAIRSIDE = {
    Perm.MANAGE_INQUIRIES,
    Perm.VIEW_ASSESSMENT,
    Perm.RECORD_ASSESSMENT,
    Perm.SEND_INTAKE,
    Perm.VIEW_MEASURES,
    Perm.RECORD_MEASURES,
    Perm.SEND_MEASURE_LINK,
    Perm.VIEW_DOSE_ORDER,
    Perm.COSIGN_DOSE_ORDER,
    Perm.VIEW_STOCK,
    Perm.WITNESS_STOCK,
    Perm.VIEW_PLAN,
    Perm.VIEW_SCHEDULE,
    Perm.BOOK_APPOINTMENT,
    Perm.VIEW_INFUSION,
    Perm.RUN_INFUSION,
    Perm.ACKNOWLEDGE_INFUSION_ALERT,
}

EXPECTED: dict[Role, set[Perm]] = {
    Role.CLINICIAN: {
        Perm.INVITE_TO_PORTAL,
        Perm.ANSWER_PORTAL_MESSAGES,
        Perm.VIEW_PATIENT,
        Perm.ADD_PATIENT,
        Perm.CHANGE_PATIENT,
        Perm.RECORD_CONSENT,
        Perm.VIEW_PROTOCOL,
        Perm.CHANGE_PROTOCOL,
        Perm.OVERRIDE_HARD_STOP,
        Perm.SIGN_ELIGIBILITY,
        Perm.ACKNOWLEDGE_ALERT,
        Perm.MANAGE_INSTRUMENTS,
        Perm.VIEW_OUTCOMES,
        Perm.PRESCRIBE,
        Perm.CHANGE_PLAN,
        Perm.SIGN_PLAN,
        Perm.SIGN_VISIT_AS_CLINICIAN,
        Perm.REVIEW_ADVERSE_EVENTS,
        Perm.VIEW_NOTES,
        Perm.WRITE_NOTES,
        Perm.WRITE_PSYCHOTHERAPY_NOTES,
        Perm.COSIGN_NOTES,
        Perm.SEND_LETTERS,
        Perm.RECORD_RELEASE_AUTHORISATION,
        Perm.FILE_DOCUMENTS,
        Perm.MANAGE_CARE_TEAM,
        Perm.MANAGE_NOTE_TEMPLATES,
        *CHAIRSIDE,
    },
    Role.NURSE: {
        Perm.INVITE_TO_PORTAL,
        Perm.ANSWER_PORTAL_MESSAGES,
        Perm.VIEW_PATIENT,
        Perm.ADD_PATIENT,
        Perm.CHANGE_PATIENT,
        Perm.RECORD_CONSENT,
        Perm.VIEW_PROTOCOL,
        Perm.DRAW_STOCK,
        Perm.COUNT_STOCK,
        Perm.VIEW_NOTES,
        Perm.WRITE_NOTES,
        Perm.FILE_DOCUMENTS,
        *CHAIRSIDE,
    },
    Role.FRONT_DESK: {
        Perm.INVITE_TO_PORTAL,
        Perm.ANSWER_PORTAL_MESSAGES,
        Perm.VIEW_PATIENT,
        Perm.ADD_PATIENT,
        Perm.CHANGE_PATIENT,
        Perm.RECORD_CONSENT,
        Perm.MANAGE_INQUIRIES,
        Perm.SEND_INTAKE,
        Perm.SEND_MEASURE_LINK,
        Perm.VIEW_PLAN,
        Perm.VIEW_SCHEDULE,
        Perm.BOOK_APPOINTMENT,
        Perm.RECORD_RELEASE_AUTHORISATION,
        Perm.FILE_DOCUMENTS,
        Perm.TAKE_DEPOSIT,
    },
    Role.BILLING_CLERK: {
        Perm.ANSWER_PORTAL_MESSAGES,
        Perm.VIEW_PATIENT,
        Perm.VIEW_BILLING,
        Perm.ISSUE_ESTIMATE,
        Perm.ISSUE_INVOICE,
        Perm.RECORD_PAYMENT,
        Perm.VOID_INVOICE,
        Perm.VIEW_BILLING_REPORTS,
        Perm.TAKE_DEPOSIT,
        Perm.DECIDE_NO_SHOW_FEE,
        Perm.SETTLE_DEPOSIT,
    },
    Role.CUSTODIAN: {
        Perm.VIEW_PROTOCOL,
        Perm.VIEW_STOCK,
        Perm.MANAGE_STOCK,
        Perm.WITNESS_STOCK,
        Perm.COUNT_STOCK,
        Perm.RESOLVE_DISCREPANCY,
        Perm.VIEW_STOCK_REPORTS,
    },
    Role.CLINIC_ADMIN: {
        Perm.EDIT_PUBLIC_SITE,
        Perm.VIEW_PROTOCOL,
        Perm.CHANGE_PROTOCOL,
        Perm.VIEW_AUDIT,
        Perm.MANAGE_STAFF,
        Perm.MANAGE_CLINIC,
        Perm.MANAGE_INSTRUMENTS,
        Perm.VIEW_OUTCOMES,
        Perm.VIEW_STOCK_REPORTS,
        Perm.VIEW_SCHEDULE,
        Perm.MANAGE_RESOURCES,
        Perm.VIEW_BILLING,
        Perm.MANAGE_PRICE_LIST,
        Perm.VIEW_BILLING_REPORTS,
        Perm.VIEW_INTERFACES,
        Perm.MANAGE_INTERFACES,
        Perm.MANAGE_NOTE_TEMPLATES,
    },
    # Never dose orders, overrides or the ledger; patients only through the care team (patients_for).
    Role.THERAPIST: {
        Perm.VIEW_PATIENT,
        Perm.VIEW_MEASURES,
        Perm.RECORD_MEASURES,
        Perm.VIEW_PLAN,
        Perm.VIEW_NOTES,
        Perm.WRITE_NOTES,
        Perm.WRITE_PSYCHOTHERAPY_NOTES,
        Perm.COSIGN_NOTES,
        Perm.RECORD_RELEASE_AUTHORISATION,
        Perm.FILE_DOCUMENTS,
    },
    Role.PATIENT: {Perm.VIEW_OWN_RECORD},
    Role.GUARDIAN: {Perm.VIEW_OWN_RECORD},
    Role.MONITOR_GATEWAY: {Perm.RECORD_DEVICE_VITALS},
    Role.FHIR_CLIENT: {Perm.READ_FHIR},
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("perm", list(Perm))
def test_role_permission_cell(role: Role, perm: Perm) -> None:
    assert role_can(role.value, perm) is (perm in EXPECTED[role])


def test_every_role_is_in_the_table() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)


@pytest.mark.parametrize("role", [None, "", "superhero"])
def test_unknown_roles_get_nothing(role: str | None) -> None:
    assert not any(role_can(role, perm) for perm in Perm)
