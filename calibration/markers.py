"""ArUco corner markers for the paper: a printable sheet, and their detection in a camera frame.

Markers 0..3 (DICT_4X4_50) sit just inside the top-left, top-right, bottom-right and bottom-left corners, with
a white quiet zone to the edge; the paper corners follow from a homography fitted to all the marker corners.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from installation.core.errors import UserError

DICT = cv2.aruco.DICT_4X4_50
MARKER_FRACTION = 0.08  # marker side as a fraction of the paper's shorter side
MARGIN_FRACTION = 0.025  # white quiet zone between the paper edge and each marker (detection needs it)


def _dictionary() -> cv2.aruco.Dictionary:
    return cv2.aruco.getPredefinedDictionary(DICT)


def marker_layout(paper_wh: tuple[float, float]) -> dict[int, np.ndarray]:
    """Marker id → its four corners (TL, TR, BR, BL, as ArUco reports them) in paper units, origin top-left."""
    w, h = paper_wh
    side, m = MARKER_FRACTION * min(w, h), MARGIN_FRACTION * min(w, h)
    origins = {0: (m, m), 1: (w - m - side, m), 2: (w - m - side, h - m - side), 3: (m, h - m - side)}
    square = np.array([[0, 0], [side, 0], [side, side], [0, side]], float)
    return {mid: square + o for mid, o in origins.items()}


def marker_zones(paper_wh: tuple[float, float], pad: float = 0.012) -> list[tuple[float, float, float, float]]:
    """Rectangles (x0, y0, x1, y1) in paper units covering each marker and a little around it: not ink."""
    p = pad * min(paper_wh)
    return [(q[0, 0] - p, q[0, 1] - p, q[2, 0] + p, q[2, 1] + p) for q in marker_layout(paper_wh).values()]


def stamp_markers(paper_bgr: np.ndarray) -> np.ndarray:
    """The paper image with the four markers printed inside its corners."""
    out = paper_bgr.copy()
    h, w = out.shape[:2]
    for mid, quad in marker_layout((w, h)).items():
        x, y = (int(round(v)) for v in quad[0])
        side = int(round(quad[2, 0])) - x
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


def detect_paper_corners(gray: np.ndarray, paper_wh: tuple[float, float] = (1.0, 1.0)) -> np.ndarray | None:
    """The four paper corners (TL, TR, BR, BL) in the image, or None unless at least 3 markers are seen.

    Every corner of every marker found is a point of a paper → image homography (least squares over 12–16
    points), so a paper corner is placed from all the markers, not read off one of them.
    """
    params = cv2.aruco.DetectorParameters()
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    detector = cv2.aruco.ArucoDetector(_dictionary(), params)
    corners, ids, _ = detector.detectMarkers(gray)
    if ids is None:
        return None
    layout = marker_layout(paper_wh)
    found = {int(i): c.reshape(4, 2) for i, c in zip(ids.ravel(), corners, strict=True) if int(i) in layout}
    if len(found) < 3:
        return None
    src = np.concatenate([layout[m] for m in sorted(found)]).astype(np.float32)
    dst = np.concatenate([found[m] for m in sorted(found)]).astype(np.float32)
    hm, _ = cv2.findHomography(src, dst, 0)
    if hm is None:
        return None
    w, h = paper_wh
    paper = np.array([[[0, 0], [w, 0], [w, h], [0, h]]], np.float32)
    return cv2.perspectiveTransform(paper, hm).reshape(4, 2).astype(float)
