from django.apps import AppConfig


class DosingConfig(AppConfig):
    name = "ketaclinic.dosing"
    label = "dosing"

    def ready(self) -> None:
        # The ledger links draws to dose orders by id; it asks this app whether an id is real.
        from ketaclinic.dosing.selectors import dose_order_of_patient_exists
        from ketaclinic.inventory.services import references

        references.register("dose_order", dose_order_of_patient_exists)
