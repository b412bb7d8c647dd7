from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ketaclinic.accounts"
    label = "accounts"
    verbose_name = "Staff and patient accounts"

    def ready(self) -> None:
        # Registers every permission of the role table with django-rules, so user.has_perm() answers from it.
        from ketaclinic.accounts import permissions

        permissions.register()
