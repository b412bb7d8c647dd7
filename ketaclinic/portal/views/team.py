"""The staff side of the portal: the message inbox (each role its topics), patients' visit requests, portal
invitations, and the public site's editor."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from ketaclinic.accounts.access import actor
from ketaclinic.core.errors import DomainError, NotFound
from ketaclinic.core.forms import field_error
from ketaclinic.portal import selectors, services
from ketaclinic.portal.forms import HandleRequestForm, InviteForm, PageEditForm, ReplyForm


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    threads = selectors.inbox(viewer=actor(request))
    return render(request, "portal/inbox.html", {"threads": threads})


@login_required
def inbox_thread(request: HttpRequest, thread_id: int) -> HttpResponse:
    user = actor(request)
    thread = selectors.inbox_thread(viewer=user, thread_id=thread_id)
    form = ReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.answer_message(by=user, thread_id=thread_id, body=form.cleaned_data["body"])
        except DomainError as error:
            field_error(form, error)
        else:
            return redirect("portal:inbox_thread", thread_id=thread_id)
    status = 422 if form.errors else 200
    return render(request, "portal/inbox_thread.html", {"thread": thread, "form": form}, status=status)


@login_required
def visit_requests(request: HttpRequest) -> HttpResponse:
    found = selectors.open_visit_requests(viewer=actor(request))
    return render(request, "portal/visit_requests.html", {"requests": found, "form": HandleRequestForm()})


@login_required
@require_POST
def visit_request_handle(request: HttpRequest, request_id: int) -> HttpResponse:
    user = actor(request)
    found = selectors.visit_request_for(viewer=user, request_id=request_id)
    form = HandleRequestForm(request.POST)
    if form.is_valid():
        try:
            services.handle_visit_request(by=user, request=found, note=form.cleaned_data["note"])
        except DomainError as error:
            field_error(form, error)
        else:
            return redirect("portal:visit_requests")
    requests = selectors.open_visit_requests(viewer=user)
    context = {"requests": requests, "form": HandleRequestForm(), "failed": found, "failed_form": form}
    return render(request, "portal/visit_requests.html", context, status=422)


@never_cache
@login_required
def invite(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Invite the patient or a guardian to the portal: the one-time link is shown once, to hand over or
    e-mail."""
    user = actor(request)
    patient, guardians = selectors.patient_to_invite(viewer=user, patient_id=patient_id)
    # The patient page's links name whom to invite (?who=patient or a guardian's id): preselected here.
    asked = request.GET.get("who", "")
    chosen = asked if asked == "patient" or any(str(item.pk) == asked for item in guardians) else None
    form = InviteForm(request.POST or None, guardians=guardians, initial={"who": chosen} if chosen else None)
    if request.method == "POST" and form.is_valid():
        who = form.cleaned_data["who"]
        guardian = None
        if who != "patient":
            guardian = next((item for item in guardians if str(item.pk) == who), None)
            if guardian is None:
                raise NotFound("No such guardian.")
        try:
            _invitation, token = services.invite_to_portal(
                by=user, patient=patient, guardian=guardian, email=form.cleaned_data["email"]
            )
        except DomainError as error:
            field_error(form, error)
        else:
            link = request.build_absolute_uri(f"/portal/invitation/{token}/")
            return render(
                request, "portal/invite_done.html", {"patient": patient, "guardian": guardian, "link": link}
            )
    status = 422 if form.errors else 200
    return render(request, "portal/invite.html", {"patient": patient, "form": form}, status=status)


@login_required
def site_pages(request: HttpRequest) -> HttpResponse:
    return render(
        request, "portal/site_pages.html", {"pages": selectors.pages_for_editing(viewer=actor(request))}
    )


@login_required
def site_page_edit(request: HttpRequest, slug: str) -> HttpResponse:
    """Edit a public page: each save is a new version; the earlier ones are listed below."""
    user = actor(request)
    page, versions = selectors.page_history(viewer=user, slug=slug)
    current = versions[0] if versions else None
    initial = {"title": current.title, "summary": current.summary, "body": current.body} if current else {}
    form = PageEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.publish_page(
                by=user,
                page=page,
                title=form.cleaned_data["title"],
                summary=form.cleaned_data["summary"],
                body=form.cleaned_data["body"],
            )
        except DomainError as error:
            field_error(form, error)
        else:
            return redirect("portal:site_page_edit", slug=slug)
    status = 422 if form.errors else 200
    return render(
        request,
        "portal/site_page_edit.html",
        {"page": page, "versions": versions, "form": form},
        status=status,
    )
