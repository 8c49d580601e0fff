"""Evidence photos are decoded and checked by Pillow before they are kept: too many pixels,
something that is not really a JPEG, PNG or WebP, or a broken file is a 400 naming the field;
what is kept is re-encoded upright and without metadata (EXIF with the GPS of a member's home,
XMP, comments, PNG text)."""

from __future__ import annotations

import functools
import io
import struct
import zlib
from datetime import timedelta

import pytest
from PIL import ExifTags, Image
from PIL.PngImagePlugin import PngInfo

from gridpoints.clock import utcnow
from gridpoints.service_records.tables import ServiceRecord
from tests.conftest import bearer

RECORDS = "/api/v1/service-records"
HOME = {  # a member's home in central Shanghai
    ExifTags.GPS.GPSLatitudeRef: "N",
    ExifTags.GPS.GPSLatitude: (31.0, 13.0, 42.0),
    ExifTags.GPS.GPSLongitudeRef: "E",
    ExifTags.GPS.GPSLongitude: (121.0, 28.0, 31.0),
}
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>home</rdf:RDF></x:xmpmeta>'


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


@functools.cache
def _blank_png(width: int, height: int) -> bytes:
    """A valid black 1-bit PNG of any size, a few hundred KB at most: the deflate of its rows
    of zeros is about a thousandth of their size."""
    row = b"\x00" * (1 + (width + 7) // 8)
    deflate = zlib.compressobj(9)
    idat = []
    for start in range(0, height, 1000):
        idat.append(deflate.compress(row * min(1000, height - start)))
    idat.append(deflate.flush())
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
        + _png_chunk(b"IDAT", b"".join(idat))
        + _png_chunk(b"IEND", b"")
    )


def _exif(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestPhone"
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(HOME)
    return exif


def _photo(kind: str, size: tuple[int, int] = (64, 48), **params) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, size[0] // 2, size[1] // 4))  # a corner to tell which way
    out = io.BytesIO()
    image.save(out, kind, **params)
    return out.getvalue()


def _gps_jpeg() -> bytes:
    """A phone's photo: EXIF with GPS, turned a quarter (orientation 6), XMP and a comment."""
    data = _photo("JPEG", exif=_exif(orientation=6).tobytes(), xmp=XMP, comment=b"home address")
    with Image.open(io.BytesIO(data)) as check:  # the input really carries it all
        assert check.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert "xmp" in check.info and "comment" in check.info
    return data


async def _record(client, world) -> int:
    response = await client.post(
        RECORDS,
        json={
            "category": "resident_service",
            "hours": 1,
            "description": "清理楼道杂物",
            "served_on": (utcnow() - timedelta(days=1)).isoformat(),
        },
        headers=bearer(client, world.member_a),
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def _upload(client, world, record_id: int, name: str, data: bytes):
    return await client.post(
        f"{RECORDS}/{record_id}/photo",
        files={"file": (name, data)},
        headers=bearer(client, world.member_a),
    )


async def _stored(client, world, record_id: int) -> bytes:
    photo = await client.get(f"{RECORDS}/{record_id}/photo", headers=bearer(client, world.leader_a))
    assert photo.status_code == 200, photo.text
    return photo.content


def _refused(response) -> str:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    (problem,) = response.json()["errors"]
    assert problem["field"] == "file"
    return problem["detail"]


async def _nothing_kept(settings, record_id: int) -> None:
    row = await ServiceRecord.select(ServiceRecord.photo).where(ServiceRecord.id == record_id)
    assert row[0]["photo"] is None
    folder = settings.uploads_dir / "service"
    assert not folder.exists() or list(folder.iterdir()) == []


async def test_a_png_of_fifty_thousand_pixels_square_is_refused(client, world, settings):
    bomb = _blank_png(50_000, 50_000)
    assert len(bomb) < settings.photo_max_bytes
    record_id = await _record(client, world)
    detail = _refused(await _upload(client, world, record_id, "bomb.png", bomb))
    assert "像素" in detail
    await _nothing_kept(settings, record_id)


async def test_a_photo_above_the_pixel_limit_is_refused_below_pillows_own_guard(
    client, world, settings
):
    # 48 million pixels: over the platform's limit, under the size Pillow itself warns about.
    width, height = 8_000, 6_000
    assert settings.photo_max_pixels < width * height < Image.MAX_IMAGE_PIXELS
    record_id = await _record(client, world)
    detail = _refused(await _upload(client, world, record_id, "big.png", _blank_png(width, height)))
    assert "像素" in detail
    await _nothing_kept(settings, record_id)


async def test_gps_exif_xmp_and_comments_are_stripped_and_the_photo_kept_upright(client, world):
    record_id = await _record(client, world)
    stored = await _upload(client, world, record_id, "IMG_0001.jpg", _gps_jpeg())
    assert stored.status_code == 200, stored.text
    assert stored.json()["has_photo"] is True
    with Image.open(io.BytesIO(await _stored(client, world, record_id))) as kept:
        assert kept.format == "JPEG"
        assert dict(kept.getexif()) == {}
        assert not kept.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert not {"exif", "xmp", "comment"} & set(kept.info)
        # Orientation 6 turns the 64×48 picture a quarter; the blue corner moves with it.
        assert kept.size == (48, 64)
        red, _, blue = kept.convert("RGB").getpixel((44, 4))
        assert blue > 150 and red < 100


@pytest.mark.parametrize("kind", ["PNG", "WEBP"])
async def test_png_text_and_exif_and_webp_exif_are_stripped(client, world, kind):
    params: dict = {"exif": _exif().tobytes()}
    if kind == "PNG":
        text = PngInfo()
        text.add_text("Comment", "家在1号楼3单元")
        text.add_itxt("XML:com.adobe.xmp", XMP.decode())
        params["pnginfo"] = text
    else:
        params["xmp"] = XMP
    record_id = await _record(client, world)
    stored = await _upload(
        client, world, record_id, f"photo.{kind.lower()}", _photo(kind, **params)
    )
    assert stored.status_code == 200, stored.text
    with Image.open(io.BytesIO(await _stored(client, world, record_id))) as kept:
        assert kept.format == kind and kept.size == (64, 48)
        assert dict(kept.getexif()) == {}
        assert not {"exif", "xmp", "Comment", "XML:com.adobe.xmp"} & set(kept.info)
        if kind == "PNG":
            assert kept.text == {}


@pytest.mark.parametrize(
    ("name", "data"),
    [
        pytest.param("cut.jpg", _photo("JPEG", quality=95)[:400], id="truncated-jpeg"),
        pytest.param("cut.png", _photo("PNG")[:-30], id="truncated-png"),
        pytest.param("x.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, id="png-signature-then-zeros"),
        pytest.param("x.jpg", b"\xff\xd8\xff\xe0" + b"garbage" * 100, id="jpeg-signature-garbage"),
        pytest.param("x.webp", b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 32, id="webp-garbage"),
        pytest.param("x.gif", _photo("GIF"), id="gif"),
        pytest.param("x.jpg", b"<html>not an image</html>", id="html"),
    ],
)
async def test_broken_or_disguised_files_are_refused(client, world, settings, name, data):
    record_id = await _record(client, world)
    _refused(await _upload(client, world, record_id, name, data))
    await _nothing_kept(settings, record_id)


async def test_a_normal_photo_is_accepted_and_served_as_an_image(client, world, settings):
    record_id = await _record(client, world)
    original = _photo("JPEG", size=(640, 480))
    stored = await _upload(client, world, record_id, "photo.jpg", original)
    assert stored.status_code == 200, stored.text
    served = await client.get(
        f"{RECORDS}/{record_id}/photo", headers=bearer(client, world.leader_a)
    )
    assert served.headers["content-type"].startswith("image/jpeg")
    with Image.open(io.BytesIO(served.content)) as kept:
        kept.load()
        assert (kept.format, kept.size) == ("JPEG", (640, 480))
    files = list((settings.uploads_dir / "service").iterdir())
    assert len(files) == 1 and files[0].suffix == ".jpg"
