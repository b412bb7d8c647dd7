"""Background work for clinical documentation, run by the task worker (`manage.py db_worker`). Tasks take
ids and are idempotent: a document no longer held is left alone."""

from django.tasks import task

from ketaclinic.notes.services.documents import documents_dir
from ketaclinic.notes.services.scanning import rescan_if_held


@task()
def rescan_held_document(*, document_id: int, attempt: int = 0) -> str:
    """Scan again an outside record held because the virus scanner did not answer; queues its next attempt
    while the scanner stays silent."""
    return rescan_if_held(document_id=document_id, attempt=attempt, folder=documents_dir())
