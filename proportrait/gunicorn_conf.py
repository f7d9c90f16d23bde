"""gunicorn settings for every web process: `gunicorn -c python:proportrait.gunicorn_conf ...`.

Only what the product depends on lives here; workers, threads and the bind address stay on the
command line of each deployment.
"""

# Access-log lines without the secrets some URL paths carry (proportrait.logsafety).
logger_class = "proportrait.logsafety.RedactingAccessLogger"
