"""The check-in URL drawn as a QR code (SVG), sized for a phone screen held up at an event."""

from __future__ import annotations

import io

import segno


def qr_svg(url: str) -> bytes:
    # Error correction "M" survives a glare spot on a phone screen; scale is in SVG units.
    code = segno.make(url, error="m")
    out = io.BytesIO()
    code.save(out, kind="svg", scale=8, border=2, xmldecl=False, svgns=True, title="签到二维码")
    return out.getvalue()
