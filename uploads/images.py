"""An image's display size, read from its first bytes only.

Registration reads `HEADER_BYTES` of the pinned version with a range read,
never the whole object (up to MAX_PHOTO_BYTES), and asks `image_dimensions()` for the
width and height a browser will show. Standard library only, and pure: any
input, truncated or hostile, gives a size or None, never an exception.

Where each format keeps its size:
- JPEG: the frame header (SOF0-SOF15 but DHT, JPG and DAC), after any APPn
  segments; an EXIF orientation of 5-8 (rotated by 90 degrees) swaps width
  and height, as browsers apply it (CSS `image-orientation: from-image`, the
  default). https://www.w3.org/TR/css-images-3/#the-image-orientation
- PNG: IHDR, the first chunk. https://www.w3.org/TR/png-3/#11IHDR
- GIF: the logical screen descriptor. https://www.w3.org/Graphics/GIF/spec-gif89a.txt
- WebP: the first chunk, VP8 (lossy frame header), VP8L (lossless header)
  or VP8X (the canvas). https://developers.google.com/speed/webp/docs/riff_container
"""

from __future__ import annotations

import struct

# A JPEG's APPn segments (EXIF with its embedded thumbnail, up to 64 KiB
# each; ICC profiles; XMP) come before its frame header, so read enough to
# get past them. Every other format has its size in the first 30 bytes.
HEADER_BYTES = 256 * 1024  # bytes

MAX_SIDE = 1 << 24  # pixels; no format here can say more (VP8X: 24 bits)

# JPEG markers that are frames (SOFn): C0-CF but C4 (DHT), C8 (JPG), CC (DAC).
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE = frozenset(range(0xD0, 0xD8)) | {0x01}  # RSTn and TEM carry no length
_SOS, _EOI, _APP1 = 0xDA, 0xD9, 0xE1
_ORIENTATION_TAG = 0x0112
_ROTATED = frozenset({5, 6, 7, 8})  # orientations that turn the image by 90 degrees


def image_dimensions(head: bytes, content_type: str) -> tuple[int, int] | None:
    """The (width, height) `head`, an image's first bytes, will be shown at,
    if `head` is a `content_type` image whose size it holds; else None."""
    reader = _READERS.get(content_type)
    if reader is None:
        return None
    try:
        size = reader(bytes(head))
    except (IndexError, ValueError, struct.error):  # truncated in a way not checked for
        return None
    if size is None:
        return None
    width, height = size
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        return None
    return width, height


def _jpeg(head: bytes) -> tuple[int, int] | None:
    if not head.startswith(b"\xff\xd8"):
        return None
    orientation = 1
    at = 2
    while at < len(head):
        if head[at] != 0xFF:
            at += 1  # stray bytes between segments: decoders skip them, so do we
            continue
        while at < len(head) and head[at] == 0xFF:  # fill bytes
            at += 1
        if at >= len(head):
            return None
        marker = head[at]
        at += 1
        if marker in _STANDALONE:
            continue
        if marker in (_SOS, _EOI, 0x00):  # image data before any frame header
            return None
        if at + 2 > len(head):
            return None
        (length,) = struct.unpack_from(">H", head, at)
        if length < 2 or at + length > len(head):
            return None
        segment = head[at + 2 : at + length]
        if marker == _APP1 and segment.startswith(b"Exif\x00\x00"):
            orientation = _exif_orientation(segment[6:]) or orientation
        elif marker in _SOF:
            if len(segment) < 5:
                return None
            height, width = struct.unpack_from(">HH", segment, 1)  # after the sample precision
            return (height, width) if orientation in _ROTATED else (width, height)
        at += length
    return None


def _exif_orientation(tiff: bytes) -> int | None:
    """The Orientation tag of IFD0 in an EXIF block's TIFF structure."""
    if tiff[:4] == b"II*\x00":
        order = "<"
    elif tiff[:4] == b"MM\x00*":
        order = ">"
    else:
        return None
    (ifd,) = struct.unpack_from(order + "I", tiff, 4)
    if ifd + 2 > len(tiff):
        return None
    (count,) = struct.unpack_from(order + "H", tiff, ifd)
    for n in range(min(count, (len(tiff) - ifd - 2) // 12)):
        tag, kind, _, value = struct.unpack_from(order + "HHI4s", tiff, ifd + 2 + 12 * n)
        if tag == _ORIENTATION_TAG and kind == 3:  # SHORT, left-justified in the value field
            (orientation,) = struct.unpack_from(order + "H", value)
            return orientation if 1 <= orientation <= 8 else None
    return None


def _png(head: bytes) -> tuple[int, int] | None:
    if not head.startswith(b"\x89PNG\r\n\x1a\n") or head[12:16] != b"IHDR" or len(head) < 24:
        return None
    width, height = struct.unpack_from(">II", head, 16)
    return width, height


def _gif(head: bytes) -> tuple[int, int] | None:
    if head[:6] not in (b"GIF87a", b"GIF89a") or len(head) < 10:
        return None
    width, height = struct.unpack_from("<HH", head, 6)
    return width, height


def _webp(head: bytes) -> tuple[int, int] | None:
    if head[:4] != b"RIFF" or head[8:12] != b"WEBP" or len(head) < 30:
        return None
    chunk = head[12:16]
    if chunk == b"VP8 ":
        # A 3-byte frame tag, the start code, then 14-bit width and height
        # (the top 2 bits are a scale the browser does not apply).
        if head[20] & 1 or head[23:26] != b"\x9d\x01\x2a":  # bit 0 set: not a key frame
            return None
        width, height = struct.unpack_from("<HH", head, 26)
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        if head[20] != 0x2F:
            return None
        (bits,) = struct.unpack_from("<I", head, 21)
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        width = int.from_bytes(head[24:27], "little") + 1
        height = int.from_bytes(head[27:30], "little") + 1
        return width, height
    return None


_READERS = {"image/jpeg": _jpeg, "image/png": _png, "image/gif": _gif, "image/webp": _webp}
