"""The chart timeline: one chronological view of a patient's encounters, notes, scales, eligibility
decisions, dose orders, infusions, letters and outside records. One query per kind of entry, whatever the
length of the history (a test pins it); each kind appears only for viewers whose role reads it."""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.urls import reverse

from ketaclinic.accounts.access import Actor, require
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.dosing.models import DoseOrder
from ketaclinic.infusions.models import InfusionVisit
from ketaclinic.measures.models import Administration
from ketaclinic.notes.models import Letter, OutsideDocument
from ketaclinic.notes.selectors.notes import visible_notes
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling.models import Appointment
from ketaclinic.screening.models import EligibilityDecision

# kind: (label, the permission that shows it)
KINDS: dict[str, tuple[str, Perm]] = {
    "encounter": ("Encounters", Perm.VIEW_NOTES),
    "note": ("Notes", Perm.VIEW_NOTES),
    "scale": ("Scales", Perm.VIEW_MEASURES),
    "decision": ("Eligibility", Perm.VIEW_ASSESSMENT),
    "order": ("Dose orders", Perm.VIEW_DOSE_ORDER),
    "infusion": ("Infusions", Perm.VIEW_INFUSION),
    "letter": ("Letters", Perm.VIEW_NOTES),
    "document": ("Outside records", Perm.VIEW_NOTES),
}


@dataclass(frozen=True)
class Entry:
    kind: str
    on: dt.date
    at: dt.datetime | None
    title: str
    detail: str
    url: str = ""

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind][0]


@dataclass(frozen=True)
class Timeline:
    patient: Patient
    entries: list[Entry]
    kinds: list[tuple[str, str, bool]]  # (kind, label, shown)


def allowed_kinds(viewer: Actor) -> list[str]:
    """The kinds of entry the viewer's role reads."""
    return [kind for kind, (_label, perm) in KINDS.items() if can(viewer, perm)]


def patient_timeline(*, viewer: Actor, patient: Patient, only: list[str] | None = None) -> Timeline:
    """The patient's timeline, newest first, limited to `only` kinds when given (and always to the viewer's).
    The patient comes from patients.selectors.patient_for, which scoped and audited the read."""
    require(viewer, Perm.VIEW_NOTES)
    allowed = allowed_kinds(viewer)
    shown = [kind for kind in allowed if not only or kind in only]
    zone = ZoneInfo(patient.clinic.time_zone)
    entries: list[Entry] = []

    def local(moment: dt.datetime) -> dt.date:
        return moment.astimezone(zone).date()

    if "encounter" in shown:
        for appointment in Appointment.objects.filter(patient=patient).select_related("clinician"):
            entries.append(
                Entry(
                    "encounter",
                    local(appointment.starts_at),
                    appointment.starts_at,
                    f"{appointment.get_kind_display()} appointment",
                    f"{appointment.get_status_display()} · {appointment.clinician.display_name}",
                )
            )
    if "note" in shown:
        for note in visible_notes(viewer=viewer).filter(patient=patient).select_related("author", "template"):
            entries.append(
                Entry(
                    "note",
                    note.encounter_on,
                    note.signed_at or note.updated_at,
                    f"{note.get_encounter_kind_display()} note ({note.template.name})",
                    f"{'Signed' if note.is_signed else 'Draft'} · {note.author.display_name}"
                    + (" · psychotherapy note" if note.kind == "psychotherapy" else ""),
                    reverse("notes:note", args=[note.pk]),
                )
            )
    if "scale" in shown:
        for row in Administration.objects.filter(patient=patient).select_related("instrument"):
            entries.append(
                Entry(
                    "scale",
                    local(row.administered_at),
                    row.administered_at,
                    f"{row.instrument.short_name} score {row.total.normalize():f}",
                    "Scale",
                    reverse("measures:patient", args=[patient.pk]),
                )
            )
    if "decision" in shown:
        for decision in EligibilityDecision.objects.filter(patient=patient).select_related("signed_by"):
            entries.append(
                Entry(
                    "decision",
                    local(decision.signed_at),
                    decision.signed_at,
                    f"Eligibility: {decision.get_outcome_display()}",
                    f"Signed by {decision.signed_by.display_name}",
                )
            )
    if "order" in shown:
        for order in DoseOrder.objects.filter(patient=patient):
            entries.append(
                Entry(
                    "order",
                    local(order.prescribed_at),
                    order.prescribed_at,
                    f"Dose order {order.dose_mg.normalize():f} mg",
                    order.get_drug_display(),
                    reverse("dosing:patient_orders", args=[patient.pk]),
                )
            )
    if "infusion" in shown:
        for visit in InfusionVisit.objects.filter(patient=patient):
            entries.append(
                Entry(
                    "infusion",
                    local(visit.opened_at),
                    visit.opened_at,
                    f"Infusion visit, {visit.planned_dose_mg.normalize():f} mg planned",
                    f"{visit.planned_duration_min} min",
                    reverse("infusions:patient_visits", args=[patient.pk]),
                )
            )
    if "letter" in shown:
        for letter in Letter.objects.filter(patient=patient):
            entries.append(
                Entry(
                    "letter",
                    local(letter.created_at),
                    letter.signed_at or letter.created_at,
                    f"{letter.get_kind_display()} to {letter.recipient_name}",
                    "Signed" if letter.is_signed else "Draft",
                    reverse("notes:letter", args=[letter.pk]),
                )
            )
    if "document" in shown:
        for document in OutsideDocument.objects.filter(patient=patient):
            entries.append(
                Entry(
                    "document",
                    document.document_date,
                    None,
                    f"{document.get_document_type_display()}: {document.title}",
                    f"From {document.source}",
                    reverse("notes:document", args=[document.pk]),
                )
            )
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    entries.sort(key=lambda entry: (entry.on, entry.at or epoch), reverse=True)
    kinds = [(kind, KINDS[kind][0], kind in shown) for kind in allowed]
    return Timeline(patient=patient, entries=entries, kinds=kinds)
