"""Pages without sign-in: the question form and the intake questionnaire."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ketaclinic.audit.middleware import client_address
from ketaclinic.core.errors import DomainError
from ketaclinic.core.forms import field_error
from ketaclinic.screening import selectors, services
from ketaclinic.screening.forms import InquiryForm, IntakeForm
from ketaclinic.screening.models import ContactMethod, HeardFrom


def contact(request: HttpRequest) -> HttpResponse:
    clinics = selectors.active_clinics()
    form = InquiryForm(request.POST or None, clinics=clinics, initial={"clinic": clinics.first()})
    status = 200
    if request.method == "POST":
        if form.is_bot:
            # Answer as if it worked, so a bot learns nothing; nothing is stored.
            return redirect("screening:contact_thanks")
        try:
            services.check_rate(client_address=client_address(request) or "")
        except DomainError as error:
            form.add_error(None, error.message)
            status = 429
        else:
            if form.is_valid():
                data = form.cleaned_data
                try:
                    services.submit_inquiry(
                        clinic=data["clinic"],
                        name=data["name"],
                        contact_method=ContactMethod(data["contact_method"]),
                        contact_value=data["contact_value"],
                        heard_from=HeardFrom(data["heard_from"]),
                        question=data["question"],
                    )
                except DomainError as error:
                    field_error(form, error)
                else:
                    return redirect("screening:contact_thanks")
    context = {"form": form, "single_clinic": clinics.count() == 1}
    return render(request, "screening/contact.html", context, status=status)


def contact_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "screening/contact_thanks.html")


def intake(request: HttpRequest, token: str) -> HttpResponse:
    """The one-time questionnaire. An unknown, used or expired link shows one calm message (status 410)."""
    try:
        invitation = services.invitation_for_token(token)
    except DomainError as error:
        return render(request, "screening/intake_unusable.html", {"message": error.message}, status=410)
    form = IntakeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.submit_intake(token=token, answers=form.cleaned_data)
        except DomainError as error:
            return render(request, "screening/intake_unusable.html", {"message": error.message}, status=410)
        return render(request, "screening/intake_done.html", {"clinic": invitation.patient.clinic})
    context = {
        "form": form,
        "clinic": invitation.patient.clinic,
        "first_name": invitation.patient.preferred_name or invitation.patient.legal_given_name,
    }
    return render(request, "screening/intake.html", context)
