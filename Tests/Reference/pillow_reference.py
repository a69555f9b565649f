"""Reference images from Pillow for trapline's Imaging tests (an independent implementation).

Usage:
  pillow_reference.py resize IN OUT.raw WIDTH HEIGHT X0 Y0 X1 Y1   Pillow BILINEAR resize of a box, raw RGB out
  pillow_reference.py orient IN.ppm OUT.raw ORIENTATION            Pillow's exif_transpose for an EXIF orientation
  pillow_reference.py full IN.jpg OUT.raw WIDTH HEIGHT CROP         Pillow full-resolution decode, upright, crop+resize
  pillow_reference.py rgb IN OUT.raw                               Pillow decode converted to RGB (CMYK included)
  pillow_reference.py cmyk IN.ppm OUT.jpg                          writes an Adobe CMYK JPEG of an RGB image
"""

import sys

from PIL import Image, ImageOps


def write_raw(image: Image.Image, path: str) -> None:
    rgb = image.convert("RGB")
    with open(path, "wb") as out:
        out.write(f"{rgb.width} {rgb.height}\n".encode())
        out.write(rgb.tobytes())


def center_box(width: int, height: int, out_w: int, out_h: int) -> tuple[float, float, float, float]:
    ratio = max(out_w / width, out_h / height)
    box_w = min(width, out_w / ratio)
    box_h = min(height, out_h / ratio)
    x0 = (width - box_w) / 2
    y0 = (height - box_h) / 2
    return (x0, y0, x0 + box_w, y0 + box_h)


def main(argv: list[str]) -> None:
    command, source, target = argv[1], argv[2], argv[3]
    image = Image.open(source)
    if command == "resize":
        width, height = int(argv[4]), int(argv[5])
        box = tuple(float(v) for v in argv[6:10])
        write_raw(image.convert("RGB").resize((width, height), Image.BILINEAR, box=box), target)
    elif command == "orient":
        exif = Image.Exif()
        exif[0x0112] = int(argv[4])
        image.info["exif"] = exif.tobytes()
        write_raw(ImageOps.exif_transpose(image), target)
    elif command == "full":
        width, height, crop = int(argv[4]), int(argv[5]), argv[6]
        upright = ImageOps.exif_transpose(image).convert("RGB")
        box = center_box(upright.width, upright.height, width, height) if crop == "center" else None
        write_raw(upright.resize((width, height), Image.BILINEAR, box=box), target)
    elif command == "rgb":
        write_raw(image, target)
    elif command == "cmyk":
        image.convert("CMYK").save(target, "JPEG", quality=90)
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main(sys.argv)
