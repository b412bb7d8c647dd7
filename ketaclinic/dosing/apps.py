from django.apps import AppConfig


class DosingConfig(AppConfig):
    name = "ketaclinic.dosing"
    label = "dosing"

    def ready(self) -> None:
        # The ledger links draws to dose orders by id; it asks this app whether an id is real.
        from ketaclinic.inventory.services import references

        references.register("dose_order", _dose_order_of_patient_exists)


def _dose_order_of_patient_exists(patient_id: int, order_id: int) -> bool:
    # The selectors are imported on the first check, not in ready(): with them come the pharmacokinetics
    # package (numpy) and other apps' selectors, start-up time for every process, most of which never check
    # a draw (bench/README.md, start-up).
    from ketaclinic.dosing.selectors import dose_order_of_patient_exists

    return dose_order_of_patient_exists(patient_id, order_id)
