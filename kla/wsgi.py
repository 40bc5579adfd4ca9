"""WSGI entry point: Django, behind the reading of bodies sent chunked (``kla.uploads``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kla.settings")
django_application = get_wsgi_application()

from kla.uploads import ChunkedBodies  # noqa: E402  (after Django is set up)

application = ChunkedBodies(django_application)
