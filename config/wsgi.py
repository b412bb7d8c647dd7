import os

from django.core.wsgi import get_wsgi_application

# Production settings unless told otherwise: development (`make run`) and tests choose theirs explicitly.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()
