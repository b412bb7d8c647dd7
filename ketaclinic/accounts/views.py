"""Sign-in with a second factor, and the clinic admin's staff pages."""

import base64
from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketaclinic.accounts import selectors, services
from ketaclinic.accounts.access import actor
from ketaclinic.accounts.forms import (
    ApiTokenForm,
    ClinicForm,
    IdleTimeoutForm,
    SecondFactorForm,
    SignInForm,
    StaffForm,
)
from ketaclinic.accounts.permissions import Perm, can
from ketaclinic.accounts.roles import Role
from ketaclinic.accounts.sessions import UNITS_KEY, note_activity
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import record_sign_in_event
from ketaclinic.core.errors import DomainError, NotFound, PermissionDenied
from ketaclinic.core.models import Clinic


def _safe_next(request: HttpRequest, default: str = "/home/") -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or default
    if url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}):
        return candidate
    return default


class SignInView(auth_views.LoginView):
    template_name = "accounts/login.html"
    form_class = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        # The idle limit counts from sign-in: a session left alone after signing in ends like any other.
        note_activity(self.request)
        record_sign_in_event(user=form.get_user(), action=Action.SIGN_IN)
        return response

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        record_sign_in_event(user=None, action=Action.SIGN_IN_FAILED, username=form.data.get("username", ""))
        return super().form_invalid(form)


class SignOutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            record_sign_in_event(user=request.user, action=Action.SIGN_OUT)
        return super().post(request, *args, **kwargs)


@login_required
def verify(request: HttpRequest) -> HttpResponse:
    """Second step of sign-in: a code from the person's authenticator."""
    next_url = _safe_next(request)
    if selectors.is_verified(request.user):
        return redirect(next_url)
    if not selectors.has_confirmed_device(request.user):
        return redirect(f"/accounts/enrol/?next={next_url}")
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            # A new session key once the second factor is passed: a key seen before it is worth nothing.
            request.session.cycle_key()
            record_sign_in_event(user=request.user, action=Action.SECOND_FACTOR)
            return redirect(next_url)
        form.add_error("token", "That code is not right, or has expired. Try the code shown now.")
    return render(request, "accounts/verify.html", {"form": form, "next": next_url})


ENROL_KEY = "ketaclinic_totp_enrol_key"


def _qr_svg(config_url: str) -> str:
    # Imported here, not with the module: qrcode brings Pillow, a tenth of a second of start-up for every
    # process that loads the URLs (each manage.py command's checks), for the one page that enrols a device.
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return str(image.to_string(encoding="unicode"))


@login_required
def enrol(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: scan the code, type the first six digits to confirm."""
    next_url = _safe_next(request)
    if selectors.has_confirmed_device(request.user) and not selectors.is_verified(request.user):
        return redirect(f"/accounts/verify/?next={next_url}")
    # The key lives in the session until a code from it is confirmed: a GET never stores a device.
    key_hex = request.session.get(ENROL_KEY) or services.new_totp_key()
    request.session[ENROL_KEY] = key_hex
    device = TOTPDevice(user=request.user, name="Authenticator app", key=key_hex)
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        confirmed = services.enrol_totp_device(
            user=request.user, key_hex=key_hex, token=form.cleaned_data["token"]
        )
        if confirmed is not None:
            del request.session[ENROL_KEY]
            otp_login(request, confirmed)
            request.session.cycle_key()
            record_sign_in_event(user=request.user, action=Action.SECOND_FACTOR)
            messages.success(request, "Two-factor sign-in is set up.")
            return redirect(next_url)
        form.add_error("token", "That code does not match. Check the app shows 'ketaclinic' and try again.")
    secret = base64.b32encode(device.bin_key).decode()
    context = {"form": form, "next": next_url, "qr_svg": _qr_svg(device.config_url), "secret": secret}
    return render(request, "accounts/enrol.html", context)


def _staff_guard(request: HttpRequest) -> None:
    if not can(request.user, Perm.MANAGE_STAFF):
        raise PermissionDenied()


@login_required
def staff_list(request: HttpRequest) -> HttpResponse:
    staff = selectors.staff_for(viewer=request.user)
    timeout_form = IdleTimeoutForm(initial={"minutes": selectors.idle_session_timeout_min()})
    context = {
        "staff": staff,
        "timeout_form": timeout_form,
        "can_manage_clinic": can(request.user, Perm.MANAGE_CLINIC),
        "clinics": selectors.clinics_for(request.user),
    }
    return render(request, "accounts/staff_list.html", context)


def _apply_domain_error(form: Any, error: DomainError) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


@login_required
def staff_create(request: HttpRequest) -> HttpResponse:
    _staff_guard(request)
    form = StaffForm(request.POST or None, clinics=selectors.clinics_for(request.user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.create_staff_account(
                by=actor(request),
                username=data["username"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                role=Role(data["role"]),
                clinics=data["clinics"],
                credentials=data["credentials"],
                phone=data["phone"],
                npi=data["npi"],
            )
        except DomainError as error:
            _apply_domain_error(form, error)
        else:
            messages.success(request, f"Account {user.username} created.")
            return redirect("accounts:staff_detail", user_id=user.pk)
    return render(request, "accounts/staff_form.html", {"form": form, "editing": False})


@login_required
def staff_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    member = selectors.staff_member_for(viewer=request.user, user_id=user_id)
    form = StaffForm(
        request.POST or None,
        clinics=selectors.clinics_for(request.user),
        editing=True,
        integration=member.is_integration,
        initial={
            "username": member.username,
            "first_name": member.first_name,
            "last_name": member.last_name,
            "email": member.email,
            "credentials": member.credentials,
            "phone": member.phone,
            "npi": member.npi,
            "role": member.role,
            "clinics": list(member.clinics.all()),
            "is_active": member.is_active,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_staff_account(
                by=actor(request),
                user=member,
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                role=Role(data["role"]),
                clinics=data["clinics"],
                is_active=data["is_active"],
                credentials=data["credentials"],
                phone=data["phone"],
                npi=data["npi"],
            )
        except DomainError as error:
            _apply_domain_error(form, error)
        else:
            messages.success(request, "Changes saved.")
            return redirect("accounts:staff_detail", user_id=member.pk)
    context = {
        "member": member,
        "form": form,
        "editing": True,
        "has_device": selectors.has_confirmed_device(member),
        "tokens": selectors.tokens_for(viewer=request.user).filter(user=member),
        # Tokens are issued here only for integration accounts; people make their own on their account page.
        "token_form": ApiTokenForm() if member.is_integration else None,
        "new_token": request.session.pop("new_api_token", None),
    }
    return render(request, "accounts/staff_form.html", context)


@login_required
@require_POST
def staff_reset_second_factor(request: HttpRequest, user_id: int) -> HttpResponse:
    member = selectors.staff_member_for(viewer=request.user, user_id=user_id)
    services.reset_second_factor(by=actor(request), user=member)
    messages.success(request, f"{member.username} will set up a new authenticator at next sign-in.")
    return redirect("accounts:staff_detail", user_id=member.pk)


@login_required
@require_POST
def staff_unlock(request: HttpRequest, user_id: int) -> HttpResponse:
    member = selectors.staff_member_for(viewer=request.user, user_id=user_id)
    cleared = services.unlock_account(by=actor(request), user=member)
    messages.success(request, f"Unlocked {member.username} ({cleared} lockout record(s) cleared).")
    return redirect("accounts:staff_detail", user_id=member.pk)


@login_required
@require_POST
def token_create(request: HttpRequest, user_id: int) -> HttpResponse:
    member = selectors.staff_member_for(viewer=request.user, user_id=user_id)
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        _, raw = services.create_api_token(by=actor(request), user=member, name=form.cleaned_data["name"])
        # Shown once on the next page, then gone: only the hash is stored.
        request.session["new_api_token"] = raw
    else:
        messages.error(request, "Give the token a name.")
    return redirect("accounts:staff_detail", user_id=member.pk)


@login_required
@require_POST
def token_revoke(request: HttpRequest, user_id: int, token_id: int) -> HttpResponse:
    member = selectors.staff_member_for(viewer=request.user, user_id=user_id)
    token = selectors.tokens_for(viewer=request.user).filter(user=member, pk=token_id).first()
    if token is not None:
        services.revoke_api_token(by=actor(request), token=token)
        messages.success(request, f"Token {token.name} revoked.")
    return redirect("accounts:staff_detail", user_id=member.pk)


@login_required
def my_account(request: HttpRequest) -> HttpResponse:
    """A person's own page: the API tokens they made for themselves, and a form to make one."""
    if not getattr(request.user, "is_clinic_staff", False):
        raise PermissionDenied()
    context = {
        "tokens": selectors.own_tokens(user=request.user),
        "token_form": ApiTokenForm(),
        "has_device": selectors.has_confirmed_device(request.user),
        "new_token": request.session.pop("new_api_token", None),
    }
    return render(request, "accounts/my_account.html", context)


@login_required
@require_POST
def my_token_create(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the token a name.")
        return redirect("accounts:my_account")
    try:
        owner = selectors.staff_account(request.user)
        _, raw = services.create_api_token(by=actor(request), user=owner, name=form.cleaned_data["name"])
    except DomainError as error:
        if isinstance(error, PermissionDenied):
            raise
        messages.error(request, error.message)
    else:
        # Shown once on the next page, then gone: only the hash is stored.
        request.session["new_api_token"] = raw
    return redirect("accounts:my_account")


@login_required
@require_POST
def my_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = selectors.own_tokens(user=request.user).filter(pk=token_id).first()
    if token is None:
        raise NotFound("No such token of yours.")
    services.revoke_api_token(by=actor(request), token=token)
    messages.success(request, f"Token {token.name} revoked.")
    return redirect("accounts:my_account")


@login_required
def clinic_edit(request: HttpRequest, clinic_id: int) -> HttpResponse:
    """A clinic admin's page for one clinic's address, identifiers, time zone and opening hours."""
    if not can(request.user, Perm.MANAGE_CLINIC):
        raise PermissionDenied()
    clinic = selectors.clinics_for(request.user).filter(pk=clinic_id).first()
    if clinic is None:
        raise NotFound("No such clinic among yours.")
    form = ClinicForm(request.POST or None, instance=Clinic.objects.get(pk=clinic.pk))
    if request.method == "POST" and form.is_valid():
        details = {name: form.cleaned_data[name] for name in services.CLINIC_FIELDS}
        try:
            services.update_clinic(by=actor(request), clinic=clinic, details=details)
        except DomainError as error:
            _apply_domain_error(form, error)
        else:
            # The units are cached in the session like the zone: this person sees the new choice at once.
            request.session.pop(UNITS_KEY, None)
            messages.success(request, f"{clinic.name} saved.")
            return redirect("accounts:staff_list")
    return render(request, "accounts/clinic_form.html", {"form": form, "clinic": clinic})


@login_required
@require_POST
def idle_timeout(request: HttpRequest) -> HttpResponse:
    form = IdleTimeoutForm(request.POST)
    if form.is_valid():
        try:
            services.set_idle_timeout(by=actor(request), minutes=form.cleaned_data["minutes"])
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Idle sessions now end after {form.cleaned_data['minutes']} minutes.")
    else:
        messages.error(request, "Choose between 1 and 480 minutes.")
    return redirect("accounts:staff_list")
