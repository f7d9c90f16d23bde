"""Generate the landing-page examples in docs/examples/ from skimage's astronaut photo.

Run:  python bench/make_examples.py
Writes one small JPEG per style shown (under ~150 KB each). The astronaut is a public-domain
NASA portrait shipped with scikit-image; no customer photo is ever used for examples.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gpu_worker.pipeline import get_pipeline
from gpu_worker.schemas import Backend, GenerationRequest
from gpu_worker.styles import get_style
from gpu_worker.tests import corpus

STYLES = ("corporate-grey", "studio-white", "warm-office", "creative-dark")
OUT = Path(__file__).resolve().parents[1] / "docs" / "examples"
MAX_BYTES = 150_000


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    pipeline = get_pipeline(Backend.STUDIO)
    photo = corpus.large_jpeg(4000, 3000)
    for slug in STYLES:
        request = GenerationRequest(job_id="example", photo=photo, style=get_style(slug), variants=1, seed=3)
        full = pipeline(request).portraits[0].full
        image = Image.open(io.BytesIO(full))
        image.thumbnail((640, 800), Image.Resampling.LANCZOS)
        # Keep the XMP "AI-generated" mark on the examples too.
        xmp = image.info.get("xmp")
        for quality in (86, 80, 72, 64):
            buffer = io.BytesIO()
            image.save(buffer, format="JPEG", quality=quality, optimize=True, progressive=True, xmp=xmp)
            if buffer.tell() <= MAX_BYTES:
                break
        path = OUT / f"{slug}.jpg"
        path.write_bytes(buffer.getvalue())
        print(f"{path.relative_to(OUT.parents[1])}: {image.width}x{image.height}, {buffer.tell() // 1024} KB")


if __name__ == "__main__":
    main()
