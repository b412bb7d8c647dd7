from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ketaclinic.inventory.services.chain import verify_ledger


class Command(BaseCommand):
    help = (
        "Verify the controlled-substance ledger's keyed hash chains and the heads anchored in the signed "
        "checkpoints; exit code 1 and the first bad link if broken."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report, check = verify_ledger()
        broken = report.broken
        anchored = f"{report.checkpoints_checked} checkpoints"
        if report.bad_checkpoints:
            raise CommandError(
                f"Checkpoint files unreadable or not signed with this installation's key: "
                f"{', '.join(report.bad_checkpoints)}.",
                returncode=1,
            )
        if broken is None and not check.vials_out_of_balance:
            self.stdout.write(f"Ledger intact: {report.entries_checked} entries verified against {anchored}.")
            return
        if broken is None:
            raise CommandError(
                f"Chains intact ({report.entries_checked} entries), but these vials' balances differ from "
                f"their ledger entries: {check.vials_out_of_balance}.",
                returncode=1,
            )
        entry = f"row {broken.entry_id}" if broken.entry_id is not None else "no row"
        raise CommandError(
            f"Ledger broken at product {broken.product_id}, entry {broken.sequence} ({entry}): "
            f"{broken.explanation} [{broken.problem}]. {report.entries_checked} entries read.",
            returncode=1,
        )
