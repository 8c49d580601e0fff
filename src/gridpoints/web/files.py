"""Files the platform hands out: the media types it serves, and a download response whose file
name survives every browser (RFC 6266 `filename*`, UTF-8, so Chinese names too)."""

from __future__ import annotations

from urllib.parse import quote

from litestar import Response

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attachment(content: bytes, filename: str, media_type: str) -> Response[bytes]:
    """`content` as a download named `filename`."""
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )
