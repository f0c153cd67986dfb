import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gis_portal.portal.settings")
application = get_wsgi_application()
# Import every view now (the URL resolver would at a worker's first request): gunicorn loads this in
# its master (preload_app), so a worker forked from it, or restarted by max_requests, answers its
# first request without half a second of imports, and shares those modules' memory with the others.
get_resolver().reverse_dict  # noqa: B018 (read for its side effect: the resolver populated)
