import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proportrait.settings")

app = Celery("proportrait")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.include = ["gpu_worker.tasks"]
app.autodiscover_tasks()
