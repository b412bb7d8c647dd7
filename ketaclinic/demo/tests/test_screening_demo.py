import pytest

from ketaclinic.accounts.models import User
from ketaclinic.core.models import Clinic
from ketaclinic.demo import screening_demo
from ketaclinic.demo.services import load_demo_core
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import population_of
from ketaclinic.patients.services import allergy_status_of
from ketaclinic.screening import selectors
from ketaclinic.screening.models import Inquiry

pytestmark = pytest.mark.django_db


def test_screening_demo_loads_once() -> None:
    load_demo_core()
    staff = {
        user.username: user
        for user in User.objects.filter(
            username__in=["admin", "drchen", "drokafor", "nurse", "frontdesk", "billing", "custodian"]
        )
    }
    clinics = {clinic.code: clinic for clinic in Clinic.objects.all()}
    patients = {
        "lena": Patient.objects.get(preferred_name="Lena"),
        "noah": Patient.objects.get(legal_given_name="Noah"),
        "walter": Patient.objects.get(legal_given_name="Walter"),
        "theo": Patient.objects.get(legal_given_name="Theodore"),
        "aisha": Patient.objects.get(legal_given_name="Aisha"),
    }
    assert screening_demo.load(staff=staff, clinics=clinics, patients=patients) == 41
    assert screening_demo.load(staff=staff, clinics=clinics, patients=patients) == 0
    assert Inquiry.objects.count() == 2
    assert selectors.eligibility_status(patient=patients["lena"]) == "eligible_with_conditions"
    assert selectors.eligibility_status(patient=patients["noah"]) is None
    lena = selectors.assessment_state(patient=patients["lena"])
    assert lena.resistance.adequate_trials == 3
    assert [f.code for f in lena.findings] == ["benzodiazepine", "lamotrigine"]
    walter = selectors.assessment_state(patient=patients["walter"])
    assert (walter.population, walter.end_of_life_pathway) == ("older_adult", True)
    assert population_of(patient=patients["noah"]) == "child"
    # Allergies asked for every demo patient of the main clinic; the history questions all answered.
    states = {key: allergy_status_of(patient).state.value for key, patient in patients.items()}
    assert states == {
        "lena": "allergies_listed",
        "noah": "no_known_allergies",
        "walter": "allergies_listed",
        "theo": "no_known_allergies",
        "aisha": "not_asked",
    }
    assert selectors.eligibility_status(patient=patients["theo"]) == "eligible"
    for key in ("lena", "noah", "walter", "theo"):
        assert selectors.assessment_state(patient=patients[key]).unanswered == []
