"""Development and `make run`: debug pages on, a fixed local secret."""

from config.settings.base import *  # noqa: F403
from config.settings.base import KETACLINIC_CHAIN_KEY, SECRET_KEY

DEBUG = True
SECRET_KEY = SECRET_KEY or "dev-only-secret-key-not-for-production-0123456789abcdef"
# Development's own chain key: a ledger made under it does not verify under production's.
KETACLINIC_CHAIN_KEY = KETACLINIC_CHAIN_KEY or "dev-only-chain-key-not-for-production-0123456789"

KETACLINIC_DJANGO_ADMIN = True
