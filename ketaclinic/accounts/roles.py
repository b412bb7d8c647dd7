"""The roles a person can hold. Pure: no Django import, so rules and tests can use it anywhere."""

from enum import StrEnum


class Role(StrEnum):
    CLINICIAN = "clinician"
    NURSE = "nurse"
    FRONT_DESK = "front_desk"
    BILLING_CLERK = "billing_clerk"
    CUSTODIAN = "custodian"
    CLINIC_ADMIN = "clinic_admin"
    THERAPIST = "therapist"
    PATIENT = "patient"
    GUARDIAN = "guardian"
    # An integration account, not a person: a bedside-monitor gateway posting vital signs for its clinics.
    MONITOR_GATEWAY = "monitor_gateway"
    # An integration account that reads its clinics' records over FHIR, read-only (system/*.read scopes).
    FHIR_CLIENT = "fhir_client"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.CLINICIAN: "Clinician (prescriber)",
    Role.NURSE: "Nurse",
    Role.FRONT_DESK: "Front desk",
    Role.BILLING_CLERK: "Billing clerk",
    Role.CUSTODIAN: "Controlled-substance custodian",
    Role.CLINIC_ADMIN: "Clinic admin",
    Role.THERAPIST: "Therapist (psychotherapist, psychologist, counsellor)",
    Role.PATIENT: "Patient",
    Role.GUARDIAN: "Guardian",
    Role.MONITOR_GATEWAY: "Monitor gateway (integration)",
    Role.FHIR_CLIENT: "FHIR client (integration, read-only)",
}

STAFF_ROLES: frozenset[Role] = frozenset(
    {
        Role.CLINICIAN,
        Role.NURSE,
        Role.FRONT_DESK,
        Role.BILLING_CLERK,
        Role.CUSTODIAN,
        Role.CLINIC_ADMIN,
        Role.THERAPIST,
    }
)

# Roles that hold prescribing, controlled-substance or administrative power must sign in with a second factor.
ROLES_REQUIRING_SECOND_FACTOR: frozenset[Role] = frozenset(
    {Role.CLINICIAN, Role.CUSTODIAN, Role.CLINIC_ADMIN, Role.THERAPIST}
)

# Roles that see only the patients whose care team they are on (patients.CareTeamMember), not every patient
# of their clinics: a therapist's caseload is the people they treat.
CARE_TEAM_SCOPED_ROLES: frozenset[Role] = frozenset({Role.THERAPIST})

# Integration accounts: no password, no sign-in page; they act only through API tokens a clinic admin issues,
# and their role grants one narrow thing. They are the only accounts an admin may issue a token for.
INTEGRATION_ROLES: frozenset[Role] = frozenset({Role.MONITOR_GATEWAY, Role.FHIR_CLIENT})
