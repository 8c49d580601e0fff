"""Evidence photos: the type is read from the bytes, never trusted from the upload, and the
file is named by the platform and written whole before it is linked."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from gridpoints.errors import Invalid

# Leading bytes of each accepted image type.
_SIGNATURES = {
    "jpg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
}
MEDIA_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def image_kind(data: bytes) -> str | None:
    for kind, prefixes in _SIGNATURES.items():
        if data.startswith(prefixes):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def store_photo(folder: Path, record_id: int, data: bytes, max_bytes: int) -> str:
    """Write the photo under `folder`; returns its name relative to it."""
    if not data:
        raise Invalid.field("file", "照片是空的")
    if len(data) > max_bytes:
        raise Invalid.field("file", f"照片不能超过 {max_bytes // (1024 * 1024)} MB")
    kind = image_kind(data)
    if kind is None:
        raise Invalid.field("file", "只接受 JPEG、PNG 或 WebP 照片")
    name = f"service/{record_id}-{secrets.token_hex(8)}.{kind}"
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_bytes(data)
    os.replace(partial, path)
    return name
