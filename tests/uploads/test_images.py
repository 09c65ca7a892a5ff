"""Display sizes read from image headers: every format, EXIF rotation, and
input that must give None rather than raise."""

from __future__ import annotations

import struct

import pytest

from tests.images import gif_bytes, jpeg_bytes, png_bytes, webp_bytes
from uploads.images import HEADER_BYTES, image_dimensions


@pytest.mark.parametrize(
    ("data", "content_type", "expected"),
    [
        (jpeg_bytes(640, 480), "image/jpeg", (640, 480)),
        (jpeg_bytes(640, 480, progressive=True), "image/jpeg", (640, 480)),
        (jpeg_bytes(1, 65535), "image/jpeg", (1, 65535)),
        (png_bytes(640, 480), "image/png", (640, 480)),
        (png_bytes(1, 1), "image/png", (1, 1)),
        (gif_bytes(640, 480), "image/gif", (640, 480)),
        (gif_bytes(1, 1), "image/gif", (1, 1)),
        (webp_bytes(640, 480, kind="VP8 "), "image/webp", (640, 480)),
        (webp_bytes(640, 480, kind="VP8L"), "image/webp", (640, 480)),
        (webp_bytes(16384, 16384, kind="VP8L"), "image/webp", (16384, 16384)),
        (webp_bytes(640, 480, kind="VP8X"), "image/webp", (640, 480)),
        (webp_bytes(16777216, 3, kind="VP8X"), "image/webp", (16777216, 3)),
    ],
)
def test_dimensions_of_each_format(data, content_type, expected):
    """Each format's header gives its width and height."""
    assert image_dimensions(data, content_type) == expected


@pytest.mark.parametrize(
    ("orientation", "big_endian", "expected"),
    [
        (1, True, (640, 480)),
        (2, False, (640, 480)),
        (3, True, (640, 480)),
        (4, False, (640, 480)),
        (5, True, (480, 640)),
        (6, True, (480, 640)),
        (6, False, (480, 640)),
        (7, False, (480, 640)),
        (8, True, (480, 640)),
        (8, False, (480, 640)),
        (0, True, (640, 480)),  # out of range: ignored
        (9, False, (640, 480)),
    ],
)
def test_jpeg_exif_orientation(orientation, big_endian, expected):
    """Orientations 5-8 turn the image a quarter, so width and height swap."""
    data = jpeg_bytes(640, 480, orientation=orientation, big_endian=big_endian)
    assert image_dimensions(data, "image/jpeg") == expected


def test_rotated_progressive_jpeg():
    """A progressive frame honours the EXIF orientation too."""
    data = jpeg_bytes(640, 480, orientation=6, progressive=True)
    assert image_dimensions(data, "image/jpeg") == (480, 640)


def test_jpeg_frame_after_large_app_segments_is_within_header_bytes():
    """A frame header after 150 KB of APP segments is inside HEADER_BYTES."""
    data = jpeg_bytes(4000, 3000, orientation=6, exif_padding=150_000)
    assert len(data) < HEADER_BYTES
    assert image_dimensions(data[:HEADER_BYTES], "image/jpeg") == (3000, 4000)


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (png_bytes(), "image/jpeg"),  # the type is not what the bytes are
        (jpeg_bytes(), "image/png"),
        (gif_bytes(), "image/webp"),
        (webp_bytes(), "image/gif"),
        (png_bytes(), "text/html"),
        (png_bytes(), ""),
    ],
)
def test_bytes_of_another_type(data, content_type):
    """Bytes that are not the named type have no size."""
    assert image_dimensions(data, content_type) is None


def _every_prefix(data: bytes) -> list[bytes]:
    return [data[:n] for n in range(len(data))]


@pytest.mark.parametrize(
    ("data", "content_type", "whole"),
    [
        (jpeg_bytes(64, 48, orientation=6), "image/jpeg", (48, 64)),
        (png_bytes(64, 48), "image/png", (64, 48)),
        (gif_bytes(64, 48), "image/gif", (64, 48)),
        (webp_bytes(64, 48, kind="VP8 "), "image/webp", (64, 48)),
        (webp_bytes(64, 48, kind="VP8L"), "image/webp", (64, 48)),
        (webp_bytes(64, 48, kind="VP8X"), "image/webp", (64, 48)),
    ],
)
def test_truncated_headers(data, content_type, whole):
    """Every prefix of an image gives its size or None, never a wrong size or an exception."""
    for prefix in _every_prefix(data):
        assert image_dimensions(prefix, content_type) in (None, whole)
    assert image_dimensions(data, content_type) == whole


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"", "image/jpeg"),
        (b"\xff\xd8", "image/jpeg"),
        (b"\xff\xd8" + b"\xff" * 1000, "image/jpeg"),  # fill bytes only
        (b"\xff\xd8\xff\xe0\x00\x01", "image/jpeg"),  # a length shorter than itself
        (b"\xff\xd8\xff\xe0\xff\xff" + b"\x00" * 10, "image/jpeg"),  # a segment past the end
        (b"\xff\xd8\xff\xda\x00\x02\xff\xd9", "image/jpeg"),  # scan data before any frame
        (b"\xff\xd8\xff\xc0\x00\x04\x08\x00", "image/jpeg"),  # a frame header too short
        (b"\xff\xd8\xff\xc0\x00\x0b\x08\x00\x00\x01\x00\x01\x01\x11\x00", "image/jpeg"),  # height 0
        (b"\xff\xd8\xff\xe1\x00\x10Exif\x00\x00MM\x00*\xff\xff\xff\xff", "image/jpeg"),  # IFD past the end
        (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDX" + b"\x00" * 17, "image/png"),
        (png_bytes()[:8] + struct.pack(">I", 13) + b"IHDR" + b"\x00" * 13, "image/png"),  # 0 x 0
        (b"GIF89a\x00\x00\x05\x00", "image/gif"),
        (b"GIF88a\x05\x00\x05\x00", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8Z" + b"\x00" * 30, "image/webp"),  # an unknown first chunk
        (b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 30, "image/webp"),  # no start code
        (b"RIFF\x00\x00\x00\x00WEBPVP8L\x00\x00\x00\x00\x2e" + b"\x00" * 30, "image/webp"),  # bad signature
        (bytes(range(256)) * 4, "image/jpeg"),
    ],
)
def test_garbage(data, content_type):
    """Malformed headers give None."""
    assert image_dimensions(data, content_type) is None


def test_exif_orientation_tag_of_another_type_is_ignored():
    """An Orientation stored as LONG, not SHORT, is not read as a rotation."""
    tiff = b"MM\x00*" + struct.pack(">IH", 8, 1) + struct.pack(">HHII", 0x0112, 4, 1, 6) + b"\x00" * 4
    app1 = b"\xff\xe1" + struct.pack(">H", len(tiff) + 8) + b"Exif\x00\x00" + tiff
    data = jpeg_bytes(640, 480)
    assert image_dimensions(data[:2] + app1 + data[2:], "image/jpeg") == (640, 480)


def test_random_bytes_never_raise():
    """Arbitrary bytes after each signature give a size or None, never an exception."""
    import random

    rng = random.Random(10)
    starts = [b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"RIFF\x00\x00\x00\x00WEBP"]
    for _ in range(2000):
        data = rng.choice(starts) + rng.randbytes(rng.randrange(64))
        for content_type in ("image/jpeg", "image/png", "image/gif", "image/webp"):
            size = image_dimensions(data, content_type)
            assert size is None or all(side > 0 for side in size)
