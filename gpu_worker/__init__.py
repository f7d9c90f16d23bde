"""Portrait generation, free of Django.

`PortraitPipeline` turns one validated photo into portraits; `gpu_worker.tasks` is the only
module that talks to Celery, and it moves job ids and storage keys, never image bytes.
"""
