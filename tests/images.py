"""Image bytes for tests, made here so the repository ships no binary file."""

from __future__ import annotations

import struct
import zlib


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    """A small valid PNG (orange pixels)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\xff\x99\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _segment(marker: int, payload: bytes) -> bytes:
    """A JPEG marker segment: FF, the marker, a length that counts itself."""
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def _exif(orientation: int, *, big_endian: bool) -> bytes:
    """An APP1 EXIF payload whose IFD0 holds only an Orientation tag."""
    order = ">" if big_endian else "<"
    tiff = (b"MM\x00*" if big_endian else b"II*\x00") + struct.pack(order + "I", 8)
    tiff += struct.pack(order + "H", 1) + struct.pack(order + "HHIH2x", 0x0112, 3, 1, orientation)
    return b"Exif\x00\x00" + tiff + struct.pack(order + "I", 0)


def jpeg_bytes(
    width: int = 2,
    height: int = 2,
    *,
    orientation: int | None = None,
    progressive: bool = False,
    big_endian: bool = True,
    exif_padding: int = 0,
) -> bytes:
    """A grey JPEG of `width` x `height` stored pixels, with an EXIF
    Orientation if given (big- or little-endian TIFF) and `exif_padding`
    bytes of APP2 segments before the frame, as camera files carry.

    Baseline files decode: one component, Huffman tables of one code each,
    every block DC 0 and end-of-block. Progressive ones (SOF2) hold a valid
    marker sequence and frame header, not decodable scans."""
    out = b"\xff\xd8" + _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    if orientation is not None:
        out += _segment(0xE1, _exif(orientation, big_endian=big_endian))
    while exif_padding > 0:
        part = min(exif_padding, 65533)
        out += _segment(0xE2, b"\x00" * part)
        exif_padding -= part
    out += _segment(0xDB, b"\x00" + b"\x01" * 64)  # quantization table 0, all ones
    out += _segment(0xC2 if progressive else 0xC0, struct.pack(">BHHB3B", 8, height, width, 1, 1, 0x11, 0))
    one_code = b"\x01" + b"\x00" * 15 + b"\x00"  # one code of length 1, for symbol 0
    out += _segment(0xC4, b"\x00" + one_code + b"\x10" + one_code)  # DC table 0, AC table 0
    out += _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    blocks = -(-width // 8) * -(-height // 8)
    bits = "00" * blocks  # per block: DC difference category 0, then end of block
    bits += "1" * (-len(bits) % 8)
    out += bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits), 8)).replace(b"\xff", b"\xff\x00")
    return out + b"\xff\xd9"


def gif_bytes(width: int = 2, height: int = 2) -> bytes:
    """A valid GIF89a of `width` x `height` black pixels. Its LZW stream
    sends a clear code every two pixels, so codes stay 3 bits wide."""
    codes = []
    for start in range(0, width * height, 2):
        codes += [4] + [0] * min(2, width * height - start)  # clear, then pixels of colour 0
    codes.append(5)  # end of information
    value = sum(code << (3 * n) for n, code in enumerate(codes))
    data = value.to_bytes(-(-3 * len(codes) // 8), "little")
    blocks = b"".join(bytes([len(data[i : i + 255])]) + data[i : i + 255] for i in range(0, len(data), 255))
    return (
        b"GIF89a"
        + struct.pack("<HHBBB", width, height, 0x80, 0, 0)  # a global table of 2 colours
        + b"\x00\x00\x00\xff\xff\xff"
        + b"," + struct.pack("<HHHHB", 0, 0, width, height, 0)
        + b"\x02" + blocks + b"\x00;"
    )


def _riff(*chunks: tuple[bytes, bytes]) -> bytes:
    """A RIFF WEBP file of (fourcc, payload) chunks, each padded to even length."""
    body = b"WEBP" + b"".join(
        kind + struct.pack("<I", len(data)) + data + b"\x00" * (len(data) % 2) for kind, data in chunks
    )
    return b"RIFF" + struct.pack("<I", len(body)) + body


def webp_bytes(width: int = 2, height: int = 2, *, kind: str = "VP8L") -> bytes:
    """A WebP file whose first chunk is `kind` ("VP8 ", "VP8L" or "VP8X")
    and says `width` x `height`. The header is valid; the image data is
    zeros, so only header readers take it for an image."""
    lossless = b"\x2f" + struct.pack("<I", (width - 1) | (height - 1) << 14) + b"\x00" * 8
    if kind == "VP8 ":
        tag = struct.pack("<I", 0x10)[:3]  # key frame, version 0, shown
        return _riff((b"VP8 ", tag + b"\x9d\x01\x2a" + struct.pack("<HH", width, height) + b"\x00" * 8))
    if kind == "VP8L":
        return _riff((b"VP8L", lossless))
    if kind == "VP8X":  # the extended format: the canvas first, then the image
        canvas = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        return _riff((b"VP8X", b"\x00" * 4 + canvas), (b"VP8L", lossless))
    raise ValueError(f"unknown WebP chunk {kind!r}")


def jpeg_of_size(size: int, width: int = 16, height: int = 12) -> bytes:
    """A decodable baseline JPEG exactly `size` bytes long: a small picture
    followed by zero bytes after its end-of-image marker, which decoders
    ignore. Big enough to go multipart, while its header stays in the first
    bytes the server reads for the type and dimensions."""
    image = jpeg_bytes(width, height)
    if size < len(image):
        raise ValueError(f"a JPEG of {width}x{height} needs at least {len(image)} bytes")
    return image + bytes(size - len(image))
