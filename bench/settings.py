"""Settings of the server `bench_live` starts: the test settings, with the benchmark's URLconf (the clinic's
URLs and the baseline stream)."""

from config.settings.test import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
