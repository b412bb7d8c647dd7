from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from ketaclinic.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    path("verify/", views.verify, name="verify"),
    path("enrol/", views.enrol, name="enrol"),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_set.html", success_url=reverse_lazy("accounts:login")
        ),
        name="password_reset_confirm",
    ),
    path("me/", views.my_account, name="my_account"),
    path("me/tokens/", views.my_token_create, name="my_token_create"),
    path("me/tokens/<int:token_id>/revoke/", views.my_token_revoke, name="my_token_revoke"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/new/", views.staff_create, name="staff_create"),
    path("staff/idle-timeout/", views.idle_timeout, name="idle_timeout"),
    path("clinics/<int:clinic_id>/", views.clinic_edit, name="clinic_edit"),
    path("staff/<int:user_id>/", views.staff_detail, name="staff_detail"),
    path("staff/<int:user_id>/reset-2fa/", views.staff_reset_second_factor, name="staff_reset_2fa"),
    path("staff/<int:user_id>/unlock/", views.staff_unlock, name="staff_unlock"),
    path("staff/<int:user_id>/tokens/", views.token_create, name="token_create"),
    path("staff/<int:user_id>/tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
]
