"""Pillow's ways to turn a large JPEG into a 224x224 model input, timed like imaging-bench.

  pillow-draft  Image.draft() picks libjpeg's DCT scaling (the fastest thing Pillow offers), then resize
  pillow-full   a full-resolution decode, then resize
Both crop the centre square and resize with BILINEAR (antialiased, as trapline's). Prints JSON lines.
"""

import json
import statistics
import sys
import time

from PIL import Image, ImageOps


def prepare(path: str, draft: bool) -> Image.Image:
    with Image.open(path) as image:
        if draft:
            image.draft("RGB", (224, 224))
        upright = ImageOps.exif_transpose(image).convert("RGB")
        side = min(upright.size)
        x0 = (upright.width - side) / 2
        y0 = (upright.height - side) / 2
        return upright.resize((224, 224), Image.BILINEAR, box=(x0, y0, x0 + side, y0 + side))


def main() -> None:
    rounds = int(sys.argv[1])
    for path in sys.argv[2:]:
        for draft in (True, False):
            prepare(path, draft)  # warm up
        samples: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(rounds):
            for draft in (True, False):
                start = time.perf_counter()
                prepare(path, draft)
                samples[draft].append((time.perf_counter() - start) * 1000)
        for draft, name in ((True, "pillow-draft"), (False, "pillow-full")):
            print(json.dumps({"file": path, "method": name, "ms": statistics.median(samples[draft])}))


if __name__ == "__main__":
    main()
