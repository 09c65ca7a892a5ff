"""`BodyOnDisk`, what a restored S3 object keeps as moto's body buffer: it
answers moto's seek, read, truncate, write and close as a file would, opens
the body file only while reading it, and never writes to it.

Pure file handling on a temporary file: no sandbox and no moto state needed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sandbox.moto_seams.persistence import BodyOnDisk, body_on_disk

BODY = bytes(range(256)) * 40  # 10,240 bytes


@pytest.fixture
def body_file(tmp_path) -> Path:
    path = tmp_path / "body"
    path.write_bytes(BODY)
    return path


def _open_descriptors_to(path: Path) -> int:
    return sum(1 for fd in Path("/proc/self/fd").iterdir() if fd.is_symlink() and os.readlink(fd) == str(path))


def test_reads_like_moto_does(body_file):
    """seek(0) then read() gives the body; chunked reads (moto's ETag loop) give it in order, then b''."""
    buffer = BodyOnDisk(body_file, max_size=1024)
    buffer.seek(0)
    assert buffer.read() == BODY
    buffer.seek(0)
    chunks = [buffer.read(4096) for _ in range(4)]
    assert b"".join(chunks) == BODY and chunks[-1] == b""


@pytest.mark.parametrize(
    "offset, whence, expected",
    [(100, os.SEEK_SET, 100), (-10, os.SEEK_END, len(BODY) - 10), (5, os.SEEK_CUR, 25)],
)
def test_seek_positions(body_file, offset, whence, expected):
    """SEEK_SET, SEEK_END and SEEK_CUR move as on a file (SEEK_CUR from position 20)."""
    buffer = BodyOnDisk(body_file, max_size=1024)
    buffer.seek(20)
    assert buffer.seek(offset, whence) == expected == buffer.tell()
    assert buffer.read(3) == BODY[expected : expected + 3]


def test_no_descriptor_stays_open(body_file):
    """The file is open only during a read: none before, none after."""
    buffer = BodyOnDisk(body_file, max_size=1024)
    assert _open_descriptors_to(body_file) == 0
    buffer.seek(0)
    buffer.read()
    assert _open_descriptors_to(body_file) == 0


def test_replacing_the_body_never_writes_the_file(body_file):
    """truncate + write (moto's value setter) moves the body into memory; the file keeps the stored bytes."""
    buffer = BodyOnDisk(body_file, max_size=1024)
    buffer.seek(0)
    buffer.truncate()
    buffer.write(b"new body")
    buffer.seek(0)
    assert buffer.read() == b"new body"
    assert body_file.read_bytes() == BODY
    assert body_on_disk_of(buffer) is None


def body_on_disk_of(buffer: BodyOnDisk) -> Path | None:
    """body_on_disk() for a stand-in key holding `buffer`."""

    class Key:
        pass

    key = Key()
    key._value_buffer = buffer
    return body_on_disk(key)  # type: ignore[arg-type]


def test_closed_buffer_raises_value_error(body_file):
    """After close (moto disposing a deleted key) a read raises ValueError, which moto's __getstate__ expects."""
    buffer = BodyOnDisk(body_file, max_size=1024)
    assert body_on_disk_of(buffer) == body_file
    buffer.close()
    assert buffer.closed
    with pytest.raises(ValueError):
        buffer.read()
