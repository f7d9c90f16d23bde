"""Portrait generation, free of Django.

`PortraitPipeline` turns one validated photo into portraits; `gpu_worker.tasks` is the only
module that talks to Celery, and it moves job ids and storage keys, never image bytes.
"""

import logging

# Pillow logs every EXIF tag value at DEBUG level (camera make, owner name, GPS). Photo
# metadata must never reach a log, whatever level the host application configures.
for _name in ("PIL", "PIL.TiffImagePlugin", "PIL.PngImagePlugin", "PIL.Image"):
    logging.getLogger(_name).setLevel(logging.WARNING)
