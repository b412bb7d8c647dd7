import os

from django.core.asgi import get_asgi_application

# Production settings unless told otherwise: development (`make run`) and tests choose theirs explicitly.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_asgi_application()
