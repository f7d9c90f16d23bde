"""Before/after contact sheet of the studio backend over the everyday-photo corpus.

Run:  python bench/make_contact_sheet.py [--before REV] [--out docs/studio-contact-sheet.jpg]
One row per case of `gpu_worker.tests.everyday`: the photo, the studio backend at REV (the
release before the everyday-photo work, by default) and the four portraits of this tree.
1280 px wide. "Before" is rendered by the old code itself, loaded from git into a scratch
package, so the comparison is what people got, not a reconstruction.
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gpu_worker.analysis import analyse_face  # noqa: E402
from gpu_worker.backends.studio import StudioRenderer  # noqa: E402
from gpu_worker.errors import InputError  # noqa: E402
from gpu_worker.styles import get_style  # noqa: E402
from gpu_worker.tests import everyday  # noqa: E402

BEFORE_REVISION = "a20bccf"
SHEET_WIDTH = 1280
COLUMNS = 6  # photo, before, four after
CELL_W = SHEET_WIDTH // COLUMNS
CELL_H = round(CELL_W * 5 / 4)
LABEL_H = 18
_OLD_MODULES = ("analysis", "framing", "backends/base", "backends/studio")


def _load_before(revision: str, scratch: Path) -> object | None:
    """The old studio renderer and analysis, as a scratch package `_before` (None if no git)."""
    package = scratch / "_before"
    (package / "backends").mkdir(parents=True)
    for name in ("", "backends/"):
        (package / name / "__init__.py").write_text("")
    for module in _OLD_MODULES:
        try:
            source = subprocess.run(
                ["git", "show", f"{revision}:gpu_worker/{module}.py"],
                cwd=ROOT,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        except (OSError, subprocess.CalledProcessError):
            return None
        for old in _OLD_MODULES:
            dotted = old.replace("/", ".")
            source = source.replace(f"gpu_worker.{dotted}", f"_before.{dotted}")
        (package / f"{module}.py").write_text(source)
    sys.path.insert(0, str(scratch))
    return importlib.import_module("_before.backends.studio"), importlib.import_module("_before.analysis")


def _cell(image: np.ndarray | None, label: str) -> np.ndarray:
    cell = np.full((CELL_H + LABEL_H, CELL_W, 3), 255, np.uint8)
    if image is not None:
        height, width = image.shape[:2]
        factor = min(CELL_W / width, CELL_H / height)
        size = (max(1, round(width * factor)), max(1, round(height * factor)))
        small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        x, y = (CELL_W - size[0]) // 2, (CELL_H - size[1]) // 2
        cell[y : y + size[1], x : x + size[0]] = small
    canvas = Image.fromarray(cell)
    ImageDraw.Draw(canvas).text((4, CELL_H + 2), label, fill=(30, 30, 30), font=ImageFont.load_default(12))
    return np.asarray(canvas)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", default=BEFORE_REVISION)
    parser.add_argument("--style", default="corporate-grey")
    parser.add_argument("--out", default=str(ROOT / "docs" / "studio-contact-sheet.jpg"))
    args = parser.parse_args()
    style = get_style(args.style)
    renderer = StudioRenderer()
    with tempfile.TemporaryDirectory() as scratch:
        before = _load_before(args.before, Path(scratch))
        rows = []
        for name in everyday.CASES:
            case = everyday.photo(name)
            cells = [_cell(case.pixels, f"{name} {case.pixels.shape[1]}x{case.pixels.shape[0]}")]
            if before is not None:
                old_studio, old_analysis = before  # type: ignore[misc]
                try:
                    old_frame = old_studio.StudioRenderer().render(
                        case.pixels, old_analysis.analyse_face(case.pixels), style, 1, 3
                    )[0]
                    cells.append(_cell(old_frame, f"before {old_frame.shape[1]}x{old_frame.shape[0]}"))
                except InputError as error:
                    cells.append(_cell(None, f"before: {error.code}"))
                except Exception as error:  # the old code's own refusals have other classes
                    cells.append(_cell(None, f"before: {type(error).__name__}"))
            try:
                frames = renderer.render(case.pixels, analyse_face(case.pixels), style, 4, 3)
                for index, frame in enumerate(frames):
                    cells.append(_cell(frame, f"after {index + 1} {frame.shape[1]}x{frame.shape[0]}"))
            except InputError as error:
                cells.append(_cell(None, f"after: refused, {error.code}"))
            while len(cells) < COLUMNS:
                cells.append(_cell(None, ""))
            rows.append(np.concatenate(cells[:COLUMNS], axis=1))
    sheet = np.concatenate(rows, axis=0)
    Image.fromarray(sheet).save(args.out, quality=84, optimize=True)
    print(f"{args.out}: {sheet.shape[1]}x{sheet.shape[0]}")


if __name__ == "__main__":
    main()
