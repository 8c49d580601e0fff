"""Evidence photos: decoded and checked by Pillow, never trusted from the upload, and kept only
as a clean copy the platform encodes itself.

A photo is refused (400 on the `file` field) when it is empty or too large, is not really a
JPEG, PNG or WebP, cannot be decoded whole, or has more pixels than `photo_max_pixels`: the
size is read from the header and checked before a single pixel is decoded, so a small file
that would unpack to gigabytes never gets that far (Pillow's own decompression-bomb guard is
a second wall behind it, and its error is the same 400). What is kept is the decoded picture
turned upright by its EXIF orientation and encoded again in its own format, so no EXIF (with
the GPS of a member's home), XMP, comment or PNG text chunk of the upload survives. The file
is named by the platform and written whole before it is linked.
"""

from __future__ import annotations

import asyncio
import io
import os
import secrets
import threading
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from gridpoints.errors import Invalid
from gridpoints.settings import Settings

FIELD = "file"
# Leading bytes of each accepted image type, checked before Pillow is asked.
_SIGNATURES = {
    "jpg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
}
MEDIA_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
# The one Pillow decoder each kind may be read with, and how it is written again.
_FORMATS = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}
_SAVE_OPTIONS: dict[str, dict[str, object]] = {
    "jpg": {"quality": 90},
    "png": {"compress_level": 6},
    "webp": {"quality": 90},
}
# Modes each format is written in as they are; any other is turned into RGB (or RGBA).
_KEPT_MODES = {
    "jpg": {"L", "RGB"},
    "png": {"1", "L", "LA", "I", "I;16", "RGB", "RGBA"},
    "webp": {"RGB", "RGBA"},
}
# A decoded photo may take a few hundred MB at the pixel limit: decode a few at a time.
_DECODING = threading.BoundedSemaphore(2)
# What Pillow raises on a file it cannot read whole.
_BROKEN = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, IndexError)


def image_kind(data: bytes) -> str | None:
    for kind, prefixes in _SIGNATURES.items():
        if data.startswith(prefixes):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def _too_many_pixels(max_pixels: int) -> Invalid:
    return Invalid.field(FIELD, f"照片像素过多（不能超过 {max_pixels:,} 像素），请缩小后再传")


def _broken() -> Invalid:
    return Invalid.field(FIELD, "照片已损坏或不是有效的 JPEG、PNG、WebP 图片")


def clean_photo(data: bytes, kind: str, max_pixels: int) -> bytes:
    """The photo decoded, checked, turned upright and encoded again without its metadata."""
    with _DECODING:
        try:
            with Image.open(io.BytesIO(data), formats=[_FORMATS[kind]]) as image:
                if image.width * image.height > max_pixels:
                    raise _too_many_pixels(max_pixels)
                image.load()
                ImageOps.exif_transpose(image, in_place=True)
                out = io.BytesIO()
                _stripped(image, kind).save(out, _FORMATS[kind], **_SAVE_OPTIONS[kind])
                return out.getvalue()
        except Image.DecompressionBombError:
            raise _too_many_pixels(max_pixels) from None
        except _BROKEN:
            raise _broken() from None


def _stripped(image: Image.Image, kind: str) -> Image.Image:
    """The pixels in a mode the format keeps, with nothing of the upload's metadata."""
    transparent = kind != "jpg" and "transparency" in image.info
    if image.mode not in _KEPT_MODES[kind] or transparent:
        alpha = kind != "jpg" and (image.has_transparency_data or "A" in image.mode)
        image = image.convert("RGBA" if alpha else "RGB")
    # Writers fall back on the image's own info for some metadata (JPEG comments, PNG ICC
    # profiles); EXIF, XMP and PNG text are written only when asked for.
    image.info = {}
    return image


async def store_photo(settings: Settings, record_id: int, data: bytes) -> str:
    """Check and clean the photo, write it under the uploads folder; returns its name there."""
    if not data:
        raise Invalid.field(FIELD, "照片是空的")
    if len(data) > settings.photo_max_bytes:
        raise Invalid.field(FIELD, f"照片不能超过 {settings.photo_max_bytes // (1024 * 1024)} MB")
    kind = image_kind(data)
    if kind is None:
        raise Invalid.field(FIELD, "只接受 JPEG、PNG 或 WebP 照片")
    clean = await asyncio.to_thread(clean_photo, data, kind, settings.photo_max_pixels)
    name = f"service/{record_id}-{secrets.token_hex(8)}.{kind}"
    await asyncio.to_thread(_write, settings.uploads_dir / name, clean)
    return name


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_bytes(data)
    os.replace(partial, path)
