"""A clinic's history for the backup tests, built through the real services in a process of its own (run by
`manage.py shell -c "from tests.faults.history import build; build()"`): staff, a patient, a receipt of
ketamine and three draws (ledger entries, each audited), every audit entry sealed and both chains anchored in
signed checkpoints."""

import datetime as dt

from conftest import make_user
from ketaclinic.accounts.roles import Role
from ketaclinic.audit.services import seal_audit_log, write_audit_checkpoint
from ketaclinic.core.models import Clinic, Organisation
from ketaclinic.inventory.services import chain, draws
from ketaclinic.inventory.tests.factories import location, mg, receive
from ketaclinic.patients.tests.factories import register_adult
from ketaclinic.protocols.services import load_protocol_defaults


def build() -> None:
    load_protocol_defaults()
    organisation = Organisation.objects.create(name="Backup Organisation")
    clinic = Clinic.objects.create(organisation=organisation, name="Main Street", code="main")
    custodian = make_user(Role.CUSTODIAN, clinic)
    clinician = make_user(Role.CLINICIAN, clinic)
    nurse = make_user(Role.NURSE, clinic)
    patient = register_adult(nurse, clinic)
    vial = receive(custodian, clinician, clinic, vials=1, where=location(custodian, clinic)).vials.get()
    for amount in ("10", "20", "30"):
        draws.draw_from_vial(by=nurse, vial_id=vial.pk, amount_mg=mg(amount), patient=patient)
    seal_audit_log(settle=dt.timedelta(0))
    chain.write_checkpoint()
    write_audit_checkpoint()
