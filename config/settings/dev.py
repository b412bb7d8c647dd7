"""Development and `make run`: debug pages on, a fixed local secret."""

from config.settings.base import *  # noqa: F403
from config.settings.base import SECRET_KEY

DEBUG = True
SECRET_KEY = SECRET_KEY or "dev-only-secret-key-not-for-production-0123456789abcdef"

KETACLINIC_DJANGO_ADMIN = True
