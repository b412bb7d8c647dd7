from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ketaclinic.audit.services import seal_audit_log, verify_audit_chain


class Command(BaseCommand):
    help = (
        "Seal the audit entries that have settled, then verify the audit log's keyed chain and the heads "
        "anchored in the signed checkpoints; exit code 1 with the first problem."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        seal_audit_log()
        report = verify_audit_chain()
        if report.bad_checkpoints:
            raise CommandError(
                "Checkpoint files unreadable or not signed with this installation's key: "
                f"{', '.join(report.bad_checkpoints)}.",
                returncode=1,
            )
        broken = report.seals.broken
        if broken is not None:
            entry = f"entry {broken.event_id}" if broken.event_id is not None else "no entry"
            raise CommandError(
                f"Audit log broken at seal {broken.sequence} ({entry}): {broken.explanation} "
                f"[{broken.problem}].",
                returncode=1,
            )
        if report.unsealed_below:
            raise CommandError(
                f"{report.unsealed_below} audit entries without a seal sit among sealed ones: they were "
                "inserted afterwards.",
                returncode=1,
            )
        self.stdout.write(
            f"Audit log intact: {report.seals.sealed_checked} entries verified against "
            f"{report.checkpoints_checked} checkpoints."
        )
