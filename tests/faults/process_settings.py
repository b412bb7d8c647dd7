"""Settings of the processes the fault tests start (task worker, backup and restore): the test settings, with
tasks in the database (django_tasks_db, as in production), e-mail through SMTP to the test's own server
(KETACLINIC_FAULTS_SMTP_PORT) and the chain checkpoints where the test says (KETACLINIC_CHECKPOINT_DIR)."""

import os
from pathlib import Path

from config.settings.test import *  # noqa: F403

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {"host": "127.0.0.1", "port": int(os.environ.get("KETACLINIC_FAULTS_SMTP_PORT", "25"))},
    }
}
if _checkpoints := os.environ.get("KETACLINIC_CHECKPOINT_DIR"):
    KETACLINIC_CHECKPOINT_DIR = Path(_checkpoints)
