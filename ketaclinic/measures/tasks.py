"""Background work for measures, run by the task worker. Tasks take ids and are idempotent."""

from django.tasks import task

from ketaclinic.measures import services


@task()
def send_alert_email(*, alert_id: int) -> bool:
    """E-mail the treating clinician about a safety alert (once)."""
    return services.deliver_alert_email(alert_id=alert_id)


@task()
def send_link_email(*, request_id: int) -> bool:
    """E-mail a patient or guardian the link to a questionnaire (once)."""
    return services.deliver_link_email(request_id=request_id)
