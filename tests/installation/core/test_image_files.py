"""Image dimensions from the header: a small file declaring a huge image is refused before decoding."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from installation.core.errors import UserError
from installation.core.image_files import MAX_PIXELS, image_size


def _png_header(path: Path, width: int, height: int) -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 9)) + chunk(b"IEND", b"")
    )


def test_a_real_image_gives_its_size(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    cv2.imwrite(str(path), np.zeros((30, 70, 3), np.uint8))
    assert image_size(path, "x") == (70, 30)


@pytest.mark.parametrize("size", [(100_000, 100_000), (8_000, 8_000), (40_000, 10)])
def test_huge_declared_images_are_refused(tmp_path: Path, size: tuple[int, int]) -> None:
    path = tmp_path / "huge.png"
    _png_header(path, *size)
    assert size[0] * size[1] > MAX_PIXELS or max(size) > 30_000
    with pytest.raises(UserError, match="huge.png"):
        image_size(path, "plot input")


def test_unreadable_files(tmp_path: Path) -> None:
    path = tmp_path / "text.png"
    path.write_text("not an image")
    with pytest.raises(UserError, match="not a readable image"):
        image_size(path, "plot input")
    assert image_size(path, "plot input", unreadable_ok=True) is None
