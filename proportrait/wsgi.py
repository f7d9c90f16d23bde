import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proportrait.settings")
application = get_wsgi_application()

# Every web process also runs the dead-man round (stale originals, orphaned objects, the outbox
# relay) on a timer: it needs only the database and storage, so it works while the broker is down.
from portraits.sweeper import start_deadman_timer  # noqa: E402

start_deadman_timer()
