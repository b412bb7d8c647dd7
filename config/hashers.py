"""Development's password hasher (config.settings.dev; production and the tests keep their own)."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class DevelopmentArgon2PasswordHasher(Argon2PasswordHasher):
    """argon2id at 8 MiB and two lanes instead of production's 100 MiB and eight.

    Production's cost is deliberate (about 0.45 CPU-seconds a hash on the two-core machine); a development
    database pays it for every demo account `load_demo` makes, which was most of a fresh `make run`'s demo
    load (4.5 of 5.8 CPU-seconds, bench/README.md). Its own algorithm name, so that a hash made under it is
    never taken for a production one: a production setting refuses it, and a development login with a
    production hash (a var/ made before) still succeeds and is re-hashed under this one."""

    algorithm = "argon2_development"
    memory_cost = 8 * 1024
    parallelism = 2
