"""Development and `make run`: debug pages on, a fixed local secret."""

from config.settings.base import *  # noqa: F403
from config.settings.base import KETACLINIC_CHAIN_KEY, SECRET_KEY

DEBUG = True
SECRET_KEY = SECRET_KEY or "dev-only-secret-key-not-for-production-0123456789abcdef"
# Development's own chain key: a ledger made under it does not verify under production's.
KETACLINIC_CHAIN_KEY = KETACLINIC_CHAIN_KEY or "dev-only-chain-key-not-for-production-0123456789"

KETACLINIC_DJANGO_ADMIN = True

# Cheaper password hashing for the development database (config/hashers.py says why); production's hasher
# stays in the list, so a password hashed under it still verifies.
PASSWORD_HASHERS = ["config.hashers.DevelopmentArgon2PasswordHasher", *PASSWORD_HASHERS]  # noqa: F405
