"""The FHIR API's routes (ketaclinic/interop/fhir): reads, searches and Patient/$everything, each guarded by
its resource type's permission (selectors.TYPE_PERMS) or, for an integration account, READ_FHIR (the
`system/<type>.read` scopes; never AuditEvent). A search names no clinic's row in its URL: another clinic's
person gets an empty Bundle (200), while a read or $everything of a main-clinic id is 404 for them."""

from typing import Any

from ketaclinic.accounts.permissions import Perm as P
from ketaclinic.accounts.permissions import role_can
from ketaclinic.accounts.roles import Role
from tests.authz.routes import get
from tests.authz.world import World

PUBLIC = {"fhir:metadata": "the CapabilityStatement (FHIR clients read it before they authenticate)"}


def _read(resource_type: str, id_key: str) -> Any:
    def build(world: World) -> dict[str, Any]:
        return {"resource_type": resource_type, "resource_id": str(world.ids[id_key])}

    return build


def _type(resource_type: str) -> Any:
    return lambda world: {"resource_type": resource_type}


def _patient_query(world: World) -> dict[str, Any]:
    return {"patient": str(world.ids["patient_id"])}


# (resource type, the world's id of one of its resources, the permissions any one of which reads it)
_TYPES: list[tuple[str, str, tuple[P, ...]]] = [
    ("Patient", "patient_id", (P.VIEW_PATIENT, P.READ_FHIR)),
    ("RelatedPerson", "guardian_id", (P.VIEW_PATIENT, P.READ_FHIR)),
    ("Consent", "fhir_consent_id", (P.VIEW_PATIENT, P.READ_FHIR)),
    ("Condition", "fhir_condition_id", (P.VIEW_ASSESSMENT, P.READ_FHIR)),
    ("MedicationStatement", "fhir_medication_id", (P.VIEW_ASSESSMENT, P.READ_FHIR)),
    ("Observation", "fhir_observation_id", (P.VIEW_MEASURES, P.READ_FHIR)),
    ("QuestionnaireResponse", "fhir_questionnaire_response_id", (P.VIEW_MEASURES, P.READ_FHIR)),
    ("Encounter", "visit_id", (P.VIEW_INFUSION, P.READ_FHIR)),
    ("MedicationAdministration", "fhir_administration_id", (P.VIEW_INFUSION, P.READ_FHIR)),
    ("Appointment", "appointment_id", (P.VIEW_SCHEDULE, P.READ_FHIR)),
    ("CarePlan", "plan_id", (P.VIEW_PLAN, P.READ_FHIR)),
    ("AuditEvent", "fhir_audit_event_id", (P.VIEW_AUDIT,)),
    ("Practitioner", "user_id", (P.VIEW_PATIENT, P.READ_FHIR)),
]


def _all_of(kind: str) -> frozenset[Role]:
    """The roles holding every permission a type needs: an Observation is a vital sign, a scale result or an
    assessment's baseline, so reading the type needs all three (selectors.can_read), which the registry's
    any-of permissions cannot say."""
    from ketaclinic.interop.fhir.selectors import TYPE_PERMS

    return frozenset(role for role in Role if all(role_can(role.value, perm) for perm in TYPE_PERMS[kind]))


_MULTI = {"Observation"}
_TYPES = [(kind, key, (P.READ_FHIR,) if kind in _MULTI else perms) for kind, key, perms in _TYPES]


def _roles(kind: str) -> frozenset[Role]:
    return _all_of(kind) if kind in _MULTI else frozenset()


ROUTES = {
    "fhir:read": [get(*perms, args=_read(kind, key), roles=_roles(kind)) for kind, key, perms in _TYPES],
    "fhir:search": [
        get(
            *perms,
            args=_type(kind),
            scoped=False,
            query=None if kind in ("Patient", "Practitioner") else _patient_query,
            roles=_roles(kind),
        )
        for kind, _key, perms in _TYPES
    ]
    + [
        get(
            P.VIEW_SCHEDULE,
            P.READ_FHIR,
            args=_type("Appointment"),
            scoped=False,
            query=lambda w: {"date": "ge2020"},
        ),
        # The demo's visit is still running (its record not signed): Provenance is searched here, and read in
        # tests/fhir/test_api.py.
        get(P.VIEW_INFUSION, P.READ_FHIR, args=_type("Provenance"), scoped=False, query=_patient_query),
    ],
    "fhir:everything": [get(P.VIEW_PATIENT, P.READ_FHIR, args=lambda w: {"patient_id": w.ids["patient_id"]})],
}


def extend_world(world: World) -> None:
    from ketaclinic.audit.models import AuditEvent
    from ketaclinic.measures.models import Administration
    from ketaclinic.patients.models import ConsentRecord
    from ketaclinic.screening.models import Diagnosis, Medication

    lena = world.ids["patient_id"]
    scale = Administration.objects.filter(patient_id=lena, correction__isnull=True).order_by("pk").first()
    audit = AuditEvent.objects.filter(patient_id=lena).order_by("pk").first()
    consent = ConsentRecord.objects.filter(patient_id=lena, corrections__isnull=True).order_by("pk").first()
    diagnosis = Diagnosis.objects.filter(patient_id=lena, corrected_by__isnull=True).order_by("pk").first()
    medication = Medication.objects.filter(patient_id=lena, corrected_by__isnull=True).order_by("pk").first()
    assert scale is not None
    assert audit is not None
    assert consent is not None
    assert diagnosis is not None
    assert medication is not None
    world.ids.update(
        {
            "fhir_observation_id": f"scale-{scale.pk}",
            "fhir_questionnaire_response_id": scale.pk,
            "fhir_audit_event_id": audit.pk,
            "fhir_consent_id": consent.pk,
            "fhir_condition_id": diagnosis.pk,
            "fhir_medication_id": medication.pk,
            "fhir_administration_id": f"infusion-{world.ids['visit_id']}",
        }
    )
