"""A clinic's note templates: created, replaced (a new row pointing at the one it replaces, which is retired)
and retired with a reason. Never edited in place: notes, signed ones too, keep pointing at the row they were
written from. Shipped templates (no clinic) are not a clinic's to retire; a clinic starts its own
from one."""

from django.db import transaction
from django.utils.text import slugify

from ketaclinic.accounts.access import Actor, require, works_at
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.models import Action, ObjectType
from ketaclinic.audit.services import record_change
from ketaclinic.core import clock
from ketaclinic.core.errors import NotFound
from ketaclinic.core.inputs import clean_reason, text_problem
from ketaclinic.notes import rules
from ketaclinic.notes.errors import NoteConflict, NoteError, NoteErrorCode
from ketaclinic.notes.models import EncounterKind, NoteTemplate


def _audit(by: Actor, template: NoteTemplate, action: str, summary: str) -> None:
    record_change(
        by=by,
        action=action,
        object_type=ObjectType.NOTE_TEMPLATE,
        object_id=template.pk,
        clinic_id=template.clinic_id,
        summary=summary,
    )


def _unique_code(clinic_id: int, name: str) -> str:
    base = (slugify(name) or "template")[:32]
    code, number = base, 2
    while NoteTemplate.objects.filter(clinic_id=clinic_id, code=code).exists():
        code, number = f"{base}-{number}", number + 1
    return code


def _retire(by: Actor, template: NoteTemplate, reason: str) -> None:
    updated = NoteTemplate.objects.filter(pk=template.pk, retired_at__isnull=True).update(
        active=False, retired_at=clock.now(), retired_by=by, retire_reason=reason
    )
    if not updated:
        raise NoteConflict(NoteErrorCode.TEMPLATE_RETIRED, "That template is retired already.")
    _audit(by, template, Action.UPDATE, f"note template retired: {template.name} ({reason[:150]})")


@transaction.atomic
def create_template(
    *,
    by: Actor,
    clinic_id: int,
    name: str,
    description: str,
    sections_text: str,
    session_fields: bool,
    default_encounter_kind: str,
    replaces: NoteTemplate | None = None,
) -> NoteTemplate:
    """A new template of the clinic; with `replaces` (the clinic's own, active) a new version of it, the old
    one retired. Raises NoteError naming the field, NotFound for another clinic, PermissionDenied."""
    require(by, Perm.MANAGE_NOTE_TEMPLATES)
    if not works_at(by, clinic_id):
        raise NotFound("No such clinic.")
    sections = rules.parse_sections(sections_text)
    for problem in rules.template_problems(name=name, sections=sections):
        raise NoteError(NoteErrorCode.TEMPLATE_INVALID, problem.message, field=problem.field)
    for field, value in (("name", name), ("description", description), ("sections", sections_text)):
        if message := text_problem(value):
            raise NoteError(NoteErrorCode.INVALID, message, field=field)
    if default_encounter_kind not in EncounterKind.values:
        raise NoteError(
            NoteErrorCode.INVALID, "Choose the kind of encounter.", field="default_encounter_kind"
        )
    if replaces is not None and (replaces.clinic_id != clinic_id or replaces.retired_at is not None):
        raise NoteError(
            NoteErrorCode.TEMPLATE_INVALID,
            "Only a current template of this clinic is replaced; start a new one from a shipped template.",
            field="replaces",
        )
    template = NoteTemplate.objects.create(
        clinic_id=clinic_id,
        code=_unique_code(clinic_id, name),
        name=name.strip()[:100],
        description=description.strip()[:200],
        sections=[{"key": s.key, "label": s.label, "hint": s.hint, "required": s.required} for s in sections],
        session_fields=session_fields,
        default_encounter_kind=default_encounter_kind,
        replaces=replaces,
        created_by=by,
        created_at=clock.now(),
    )
    _audit(by, template, Action.CREATE, f"note template created: {template.name}")
    if replaces is not None:
        _retire(by, replaces, f"replaced by {template.name}")
    return template


@transaction.atomic
def retire_template(*, by: Actor, template: NoteTemplate, reason: str) -> NoteTemplate:
    """Retire a clinic's template: no new note starts from it; the row and its notes stay."""
    require(by, Perm.MANAGE_NOTE_TEMPLATES)
    if template.clinic_id is None or not works_at(by, template.clinic_id):
        raise NotFound("No such template of your clinics.")
    _retire(by, template, clean_reason(reason, what="Say why the template is retired."))
    template.refresh_from_db()
    return template
