from django.apps import AppConfig


class InfusionsConfig(AppConfig):
    name = "ketaclinic.infusions"
    label = "infusions"

    def ready(self) -> None:
        # The ledger links draws to visits by id; it asks this app whether an id is real.
        from ketaclinic.infusions.selectors import visit_of_patient_exists
        from ketaclinic.inventory.services import references

        references.register("visit", visit_of_patient_exists)
