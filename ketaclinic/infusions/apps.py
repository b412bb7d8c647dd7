from django.apps import AppConfig


class InfusionsConfig(AppConfig):
    name = "ketaclinic.infusions"
    label = "infusions"

    def ready(self) -> None:
        # The ledger links draws to visits by id; it asks this app whether an id is real.
        from ketaclinic.inventory.services import references

        references.register("visit", _visit_of_patient_exists)


def _visit_of_patient_exists(patient_id: int, visit_id: int) -> bool:
    # The selectors are imported on the first check, not in ready(): with them come the pharmacokinetics
    # package (numpy) and other apps' selectors, start-up time for every process, most of which never check
    # a draw (bench/README.md, start-up).
    from ketaclinic.infusions.selectors import visit_of_patient_exists

    return visit_of_patient_exists(patient_id, visit_id)
