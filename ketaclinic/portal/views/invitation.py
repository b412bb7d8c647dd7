"""Accepting a portal invitation: the one-time link is the credential, so the page is public."""

from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from ketaclinic.core.forms import field_error
from ketaclinic.portal import services
from ketaclinic.portal.errors import PortalDomainError, PortalError
from ketaclinic.portal.forms import AcceptInvitationForm


@never_cache
def accept(request: HttpRequest, token: str) -> HttpResponse:
    """Choose a user name and password; the account is linked to the record and signed in. The link works
    once."""
    try:
        invitation = services.invitation_for_token(token)
    except PortalDomainError as error:
        return render(request, "portal/invitation_closed.html", {"message": error.message}, status=404)
    form = AcceptInvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.accept_invitation(
                token=token, username=form.cleaned_data["username"], password=form.cleaned_data["password"]
            )
        except PortalDomainError as error:
            if error.code == PortalError.INVITATION_INVALID:
                return render(
                    request, "portal/invitation_closed.html", {"message": error.message}, status=404
                )
            field_error(form, error)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("portal:welcome")
    context = {
        "form": form,
        "invitation": invitation,
        "for_child": invitation.guardian is not None,
        "clinic": invitation.patient.clinic,
    }
    return render(request, "portal/invitation_accept.html", context, status=422 if form.errors else 200)
