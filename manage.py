#!/usr/bin/env python
"""Django's command-line utility for ketaclinic."""

import os
import sys


def main() -> None:
    # Production settings unless told otherwise: development (`make run`) and tests choose theirs explicitly.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
