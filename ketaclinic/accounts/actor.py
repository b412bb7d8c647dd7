"""Who acts, as a type: services take it as `by=`, selectors as `viewer=`, so mypy checks every call.

`Actor` is a signed-in person. `Who` is whoever a check or a read is asked about: a person, an anonymous
visitor (always refused), or no one (a device's write, such as a bedside monitor's reading, where a service
allows it)."""

from django.contrib.auth.models import AnonymousUser

from ketaclinic.accounts.models import User

type Actor = User
type Who = User | AnonymousUser | None
