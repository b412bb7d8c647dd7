"""Permissions declared as data: one table of role x permission. Everything else asks `can()`.

The table is registered with django-rules so `user.has_perm(...)` answers from it too.
"""

from enum import StrEnum
from typing import Any

from rules.permissions import add_perm, perm_exists
from rules.predicates import predicate

from ketaclinic.accounts.roles import Role


class Perm(StrEnum):
    VIEW_PATIENT = "patients.view_patient"
    ADD_PATIENT = "patients.add_patient"
    CHANGE_PATIENT = "patients.change_patient"
    RECORD_CONSENT = "patients.record_consent"
    VIEW_PROTOCOL = "protocols.view_protocol"
    CHANGE_PROTOCOL = "protocols.change_protocol"
    VIEW_AUDIT = "audit.view_audit"
    MANAGE_STAFF = "accounts.manage_staff"
    MANAGE_CLINIC = "core.manage_clinic"
    VIEW_OWN_RECORD = "portal.view_own_record"
    # A clinical hard stop (contraindication, dose limit) may be overridden, with a reason, by these roles.
    OVERRIDE_HARD_STOP = "clinical.override_hard_stop"
    # screening: the public inquiry queue, the assessment, the eligibility decision
    MANAGE_INQUIRIES = "screening.manage_inquiries"
    VIEW_ASSESSMENT = "screening.view_assessment"
    RECORD_ASSESSMENT = "screening.record_assessment"
    SIGN_ELIGIBILITY = "screening.sign_eligibility"
    SEND_INTAKE = "screening.send_intake"
    # measures: scales, their links, suicide-risk alerts, instrument definitions, clinic outcomes
    VIEW_MEASURES = "measures.view_measures"
    RECORD_MEASURES = "measures.record_measures"
    SEND_MEASURE_LINK = "measures.send_measure_link"
    ACKNOWLEDGE_ALERT = "measures.acknowledge_alert"
    MANAGE_INSTRUMENTS = "measures.manage_instruments"
    VIEW_OUTCOMES = "analytics.view_outcomes"
    # dosing: orders are prescribed by a clinician and co-signed by a second person
    VIEW_DOSE_ORDER = "dosing.view_order"
    PRESCRIBE = "dosing.prescribe"
    COSIGN_DOSE_ORDER = "dosing.cosign_order"
    # plans: treatment plans are drafted and signed by a clinician; the team and the front desk read them
    VIEW_PLAN = "plans.view_plan"
    CHANGE_PLAN = "plans.change_plan"
    SIGN_PLAN = "plans.sign_plan"
    # scheduling: the front desk's calendar; clinic admins keep chairs, rooms, hours and closures
    VIEW_SCHEDULE = "scheduling.view_schedule"
    BOOK_APPOINTMENT = "scheduling.book"
    MANAGE_RESOURCES = "scheduling.manage_resources"
    # inventory: the controlled-substance ledger
    VIEW_STOCK = "inventory.view_stock"
    MANAGE_STOCK = "inventory.manage_stock"
    DRAW_STOCK = "inventory.draw"
    WITNESS_STOCK = "inventory.witness"
    COUNT_STOCK = "inventory.count"
    RESOLVE_DISCREPANCY = "inventory.resolve_discrepancy"
    VIEW_STOCK_REPORTS = "inventory.view_reports"
    # infusions: the visit at the chair, run by a nurse or clinician; the clinician co-signs the record and
    # reviews serious adverse events
    VIEW_INFUSION = "infusions.view_visit"
    RUN_INFUSION = "infusions.run_visit"
    ACKNOWLEDGE_INFUSION_ALERT = "infusions.acknowledge_alert"
    SIGN_VISIT_AS_CLINICIAN = "infusions.sign_as_clinician"
    REVIEW_ADVERSE_EVENTS = "infusions.review_adverse_events"
    # A bedside-monitor gateway (an integration account) posts device readings to its clinics' open visits;
    # the reading is a device's (no person), and the gateway reads nothing else.
    RECORD_DEVICE_VITALS = "infusions.record_device_vitals"
    # billing: the clerk estimates, invoices and takes payments; the clinic admin keeps the price list and
    # settings. Neither reads clinical notes: billing pages show codes, dates and money only.
    VIEW_BILLING = "billing.view_billing"
    MANAGE_PRICE_LIST = "billing.manage_price_list"
    ISSUE_ESTIMATE = "billing.issue_estimate"
    ISSUE_INVOICE = "billing.issue_invoice"
    RECORD_PAYMENT = "billing.record_payment"
    VOID_INVOICE = "billing.void_invoice"
    # Deposits: the front desk takes one at booking; the clerk also decides no-show fees and settles deposits
    # (refund, or keep by the clinic's no-show rule).
    TAKE_DEPOSIT = "billing.take_deposit"
    DECIDE_NO_SHOW_FEE = "billing.decide_no_show_fee"
    SETTLE_DEPOSIT = "billing.settle_deposit"
    VIEW_BILLING_REPORTS = "billing.view_reports"
    # notes: encounter notes, psychotherapy notes (HIPAA: kept apart, read by their author until released),
    # co-signature, letters, releases of information, outside records and the chart timeline
    VIEW_NOTES = "notes.view_notes"
    WRITE_NOTES = "notes.write_notes"
    WRITE_PSYCHOTHERAPY_NOTES = "notes.write_psychotherapy_notes"
    COSIGN_NOTES = "notes.cosign_notes"
    SEND_LETTERS = "notes.send_letters"
    RECORD_RELEASE_AUTHORISATION = "notes.record_release_authorisation"
    FILE_DOCUMENTS = "notes.file_documents"
    # The patient's care team: who joins it (a therapist then sees the patient) and whose assignment ends.
    MANAGE_CARE_TEAM = "notes.manage_care_team"
    # A clinic's own note templates: created, replaced by a new version, retired (never edited).
    MANAGE_NOTE_TEMPLATES = "notes.manage_note_templates"
    # portal: the clinic's public site is edited by its admin; staff invite patients and guardians to the
    # portal, answer their messages (each role its topics) and act on their requests to change a visit.
    EDIT_PUBLIC_SITE = "portal.edit_public_site"
    INVITE_TO_PORTAL = "portal.invite"
    ANSWER_PORTAL_MESSAGES = "portal.answer_messages"
    # interop: the HL7 interface: health and review queue (view), device mapping and reprocessing (manage)
    VIEW_INTERFACES = "hl7.view_interfaces"
    MANAGE_INTERFACES = "hl7.manage_interfaces"
    # A FHIR client (an integration account: a referring practice's or an EHR's system) reads its clinics'
    # records through /fhir/ (SMART backend-services scopes `system/<type>.read`), and nothing else.
    READ_FHIR = "fhir.system_read"


_CLINICAL_CARE = {
    Perm.VIEW_PATIENT,
    Perm.ADD_PATIENT,
    Perm.CHANGE_PATIENT,
    Perm.RECORD_CONSENT,
    Perm.VIEW_PROTOCOL,
}

# What a nurse and a clinician both do at the chair and in the assessment room.
_CHAIRSIDE = {
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
    Perm.INVITE_TO_PORTAL,
    Perm.ANSWER_PORTAL_MESSAGES,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.CLINICIAN: frozenset(
        _CLINICAL_CARE
        | _CHAIRSIDE
        | {
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
        }
    ),
    # Nurses draw, waste and count controlled drugs; they neither prescribe nor override hard stops.
    Role.NURSE: frozenset(
        _CLINICAL_CARE
        | _CHAIRSIDE
        | {Perm.DRAW_STOCK, Perm.COUNT_STOCK, Perm.VIEW_NOTES, Perm.WRITE_NOTES, Perm.FILE_DOCUMENTS}
    ),
    Role.FRONT_DESK: frozenset(
        {
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
            Perm.INVITE_TO_PORTAL,
            Perm.ANSWER_PORTAL_MESSAGES,
            Perm.TAKE_DEPOSIT,
        }
    ),
    Role.BILLING_CLERK: frozenset(
        {
            Perm.VIEW_PATIENT,
            Perm.VIEW_BILLING,
            Perm.ISSUE_ESTIMATE,
            Perm.ISSUE_INVOICE,
            Perm.RECORD_PAYMENT,
            Perm.VOID_INVOICE,
            Perm.VIEW_BILLING_REPORTS,
            Perm.ANSWER_PORTAL_MESSAGES,
            Perm.TAKE_DEPOSIT,
            Perm.DECIDE_NO_SHOW_FEE,
            Perm.SETTLE_DEPOSIT,
        }
    ),
    # Only the custodian manages stock and resolves discrepancies (PROTOCOL.md section 7).
    Role.CUSTODIAN: frozenset(
        {
            Perm.VIEW_PROTOCOL,
            Perm.VIEW_STOCK,
            Perm.MANAGE_STOCK,
            Perm.WITNESS_STOCK,
            Perm.COUNT_STOCK,
            Perm.RESOLVE_DISCREPANCY,
            Perm.VIEW_STOCK_REPORTS,
        }
    ),
    Role.CLINIC_ADMIN: frozenset(
        {
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
            Perm.EDIT_PUBLIC_SITE,
            Perm.VIEW_INTERFACES,
            Perm.MANAGE_INTERFACES,
            Perm.MANAGE_NOTE_TEMPLATES,
        }
    ),
    # A therapist treats the patients on whose care team they are (patients.selectors.patients_for): reads
    # their record, scales, outcomes and plan, writes session and psychotherapy notes. Never dose orders,
    # their overrides or the controlled-substance ledger.
    Role.THERAPIST: frozenset(
        {
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
        }
    ),
    Role.PATIENT: frozenset({Perm.VIEW_OWN_RECORD}),
    Role.GUARDIAN: frozenset({Perm.VIEW_OWN_RECORD}),
    Role.MONITOR_GATEWAY: frozenset({Perm.RECORD_DEVICE_VITALS}),
    Role.FHIR_CLIENT: frozenset({Perm.READ_FHIR}),
}


def role_can(role: str | None, perm: Perm) -> bool:
    """True when the role table grants `perm` to `role`."""
    if role is None or role not in Role._value2member_map_:
        return False
    return perm in ROLE_PERMISSIONS[Role(role)]


def can(user: Any, perm: Perm) -> bool:
    """True when a signed-in, active user's role grants `perm`."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return role_can(getattr(user, "role", None), perm)


def _predicate_for(perm: Perm) -> Any:
    @predicate(name=f"role_grants_{perm.value}")
    def granted(user: Any) -> bool:
        return can(user, perm)

    return granted


def register() -> None:
    for perm in Perm:
        if not perm_exists(perm.value):
            add_perm(perm.value, _predicate_for(perm))
