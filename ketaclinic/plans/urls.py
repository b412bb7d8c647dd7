from django.urls import URLPattern, URLResolver, path

from ketaclinic.plans import views

app_name = "plans"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.plan_list, name="list"),
    path("patients/<int:patient_id>/", views.patient_plan, name="patient"),
    path("patients/<int:patient_id>/new/", views.plan_create, name="create"),
    path("drafts/<int:draft_id>/edit/", views.draft_edit, name="draft_edit"),
    path("drafts/<int:draft_id>/sign/", views.draft_sign, name="draft_sign"),
    path("<int:plan_id>/change/", views.plan_change, name="change"),
    path("<int:plan_id>/end/", views.plan_end, name="end"),
]
