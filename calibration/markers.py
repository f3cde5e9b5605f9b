"""ArUco corner markers for the paper: a printable sheet, and their detection in a camera frame.

Markers 0..3 (DICT_4X4_50) sit in the top-left, top-right, bottom-right and bottom-left corners; each marker's
outer corner is the paper corner used for the homography.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from installation.core.errors import UserError

DICT = cv2.aruco.DICT_4X4_50
MARKER_FRACTION = 0.09  # marker side as a fraction of the paper's shorter side
OUTER = (0, 1, 2, 3)  # which of each marker's own corners (TL, TR, BR, BL) is the paper corner, per marker id


def _dictionary() -> cv2.aruco.Dictionary:
    return cv2.aruco.getPredefinedDictionary(DICT)


def stamp_markers(paper_bgr: np.ndarray) -> np.ndarray:
    """The paper image with the four markers printed in its corners (flush with the edges)."""
    out = paper_bgr.copy()
    h, w = out.shape[:2]
    side = int(min(h, w) * MARKER_FRACTION)
    for mid, (x, y) in enumerate(((0, 0), (w - side, 0), (w - side, h - side), (0, h - side))):
        m = cv2.aruco.generateImageMarker(_dictionary(), mid, side)
        out[y : y + side, x : x + side] = cv2.cvtColor(m, cv2.COLOR_GRAY2BGR)
    return out


def marker_sheet(paper_mm: tuple[float, float], dpi: int = 150) -> np.ndarray:
    """A white sheet of `paper_mm` at `dpi` with the four markers, BGR."""
    w, h = (int(round(v / 25.4 * dpi)) for v in paper_mm)
    return stamp_markers(np.full((h, w, 3), 255, np.uint8))


def write_sheet(path: Path, paper_mm: tuple[float, float], dpi: int = 150) -> None:
    sheet = marker_sheet(paper_mm, dpi)
    if path.suffix.lower() == ".pdf":
        _write_pdf(path, sheet, paper_mm)
    elif not cv2.imwrite(str(path), sheet):
        raise UserError(f"cannot write {path}: use a .png or .pdf name in a writable folder")


def _write_pdf(path: Path, bgr: np.ndarray, paper_mm: tuple[float, float]) -> None:
    """A one-page PDF holding the sheet as a greyscale image at the exact paper size (no extra dependency)."""
    import zlib

    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    h, w = gray.shape
    pw, ph = (v / 25.4 * 72 for v in paper_mm)
    data = zlib.compress(gray.tobytes())
    content = f"q {pw:.2f} 0 0 {ph:.2f} 0 0 cm /Im0 Do Q".encode()
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {pw:.2f} {ph:.2f}] /Resources << /XObject << /Im0 4 0 R >> >> "
        f"/Contents 5 0 R >>".encode(),
        f"<< /Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace /DeviceGray /BitsPerComponent 8 "
        f"/Filter /FlateDecode /Length {len(data)} >>\nstream\n".encode()
        + data
        + b"\nendstream",
        f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))


def detect_paper_corners(gray: np.ndarray) -> np.ndarray | None:
    """The four paper corners (TL, TR, BR, BL) from the markers, or None unless all four are seen."""
    detector = cv2.aruco.ArucoDetector(_dictionary(), cv2.aruco.DetectorParameters())
    corners, ids, _ = detector.detectMarkers(gray)
    if ids is None:
        return None
    found = {int(i): c.reshape(4, 2) for i, c in zip(ids.ravel(), corners, strict=True)}
    if not all(m in found for m in range(4)):
        return None
    return np.array([found[m][OUTER[m]] for m in range(4)], float)
