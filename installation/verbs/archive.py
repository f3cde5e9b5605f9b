"""`run.py archive`: list the archived works, show one, verify them all, or make a contact sheet.

    python run.py archive                       # list (newest last)
    python run.py archive show ID               # its meta.json
    python run.py archive verify                # every file against its size and sha256; leftovers, links, index
    python run.py archive sheet --out sheet.png [--last 48] [--cols 6]

The archive folder comes from the config (`archive.root`, or `--root DIR`).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from installation.core.config import load_config
from installation.core.errors import UserError
from installation.runtime.archive import Archive
from installation.runtime.archive_check import check_archive

ACTIONS = ("list", "show", "verify", "sheet")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action", nargs="?", default="list", choices=ACTIONS, help="list (default), show, verify, sheet"
    )
    parser.add_argument("work", nargs="?", help="a work id (for show)")
    parser.add_argument("--root", type=Path, help="archive folder (default: archive.root from the config)")
    parser.add_argument("--config", type=Path, help="venue TOML file layered over the packaged defaults")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE", help="config override")
    parser.add_argument("--out", type=Path, help="sheet: the PNG to write")
    parser.add_argument("--last", type=int, default=48, help="sheet: the newest N works")
    parser.add_argument("--cols", type=int, default=6, help="sheet: works per row")
    parser.add_argument("--thumb", type=int, default=160, help="sheet: thumbnail side in pixels")
    parser.add_argument("--json", action="store_true", help="list: one JSON object per line")


def main(args: argparse.Namespace) -> int:
    root = args.root or _root_from_config(args)
    if not root.is_dir():
        raise UserError(f"archive folder {root} does not exist: run the show first, or pass --root DIR")
    archive = Archive(root)
    if args.action == "show":
        if not args.work:
            raise UserError("archive show needs a work id: run.py archive show ID (run.py archive lists them)")
        meta = archive.meta(args.work) if archive.path(args.work).is_dir() else None
        if meta is None:
            raise UserError(f"no complete work {args.work!r} in {root}: run.py archive lists them")
        print(json.dumps(meta, indent=2))
        return 0
    if args.action == "verify":
        report = check_archive(archive)
        print("\n".join(report.lines()))
        return 0 if report.ok else 1
    entries = archive.list()
    if args.action == "sheet":
        if args.out is None:
            raise UserError("archive sheet needs --out FILE.png")
        if args.last < 1 or args.cols < 1 or not 32 <= args.thumb <= 1024:
            raise UserError("archive sheet: --last and --cols must be at least 1, --thumb within 32..1024")
        if not entries:
            raise UserError(f"archive {root} holds no finished works: nothing to put on a sheet (is --root right?)")
        n = contact_sheet(archive, entries[-args.last :], args.out, args.cols, args.thumb)
        print(f"contact sheet of {n} works: {args.out}")
        return 0
    for e in entries:
        if args.json:
            print(json.dumps(e))
        else:
            files = e.get("files")
            names = ", ".join(map(str, files)) if isinstance(files, list) else ""
            print(f"{e['id']}  {str(e.get('reason', '')):<6} {str(e.get('source', '')):<8} {names}")
    if not args.json:
        print(f"{len(entries)} works in {root}")
    return 0


def _root_from_config(args: argparse.Namespace) -> Path:
    cfg = load_config(args.config, args.set)
    return cfg.resolve(cfg.archive.root)


# each tile's two images: the drawing (a show work's sketch, a sitter's drawing; a duet's from its duet.json, in two
# inks) and the AI's answer
TILE_FILES = (("sketch.png", "drawing.png"), ("ai.png", "portrait.png"))


def contact_sheet(archive: Archive, entries: list[dict[str, Any]], out: Path, cols: int, thumb: int) -> int:
    """A grid of (drawing | AI image) pairs, each with its time and full work id; written atomically.

    Show works hold sketch.png / ai.png, sitter works drawing.png / portrait.png; each image keeps its
    proportions (a sitter's A4 drawing is not squashed). Returns the number of works shown.
    """
    cols = max(1, min(cols, len(entries)))
    cell_w, cell_h = 2 * thumb + 12, thumb + 44
    rows = max(1, -(-len(entries) // cols))
    sheet = np.full((rows * cell_h + 8, cols * cell_w + 8, 3), 245, np.uint8)  # (H, W, 3) BGR
    for i, e in enumerate(entries):
        y, x = 8 + (i // cols) * cell_h, 8 + (i % cols) * cell_w
        for j, names in enumerate(TILE_FILES):
            img = _duet_thumb(archive, e["id"], thumb) if j == 0 and e.get("kind") == "duet" else None
            img = _thumb(archive, e["id"], names, thumb) if img is None else img
            sheet[y : y + thumb, x + j * (thumb + 2) : x + j * (thumb + 2) + thumb] = img
        stamp = str(e.get("finished_at") or e.get("saved_at") or "")
        when = stamp[:19].replace("T", " ") + (" UTC" if stamp.endswith(("+00:00", "Z")) else "")
        what = e.get("reason") or e.get("kind", "")
        for k, line in enumerate((f"{when} {what}".strip(), e["id"])):
            _label(sheet, line, (x, y + thumb + 16 + 14 * k), 2 * thumb + 2)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp.png")
    ok = cv2.imwrite(str(tmp), sheet)
    if not ok:
        raise UserError(f"cannot write the contact sheet to {out}: choose a writable .png path")
    os.replace(tmp, out)
    return len(entries)


def _label(sheet: np.ndarray, text: str, at: tuple[int, int], width: int) -> None:
    """One line of text, made smaller until it fits `width` pixels (a full work id is never cut)."""
    font, scale = cv2.FONT_HERSHEY_SIMPLEX, 0.4
    while scale > 0.2 and cv2.getTextSize(text, font, scale, 1)[0][0] > width:
        scale -= 0.02
    cv2.putText(sheet, text, at, font, scale, (40, 40, 40), 1, cv2.LINE_AA)


def _duet_thumb(archive: Archive, wid: str, side: int) -> np.ndarray | None:
    """A duet drawn from its duet.json: the artist's strokes and the AI's in two inks (None: unreadable)."""
    from installation.runtime.archive import read_nofollow
    from installation.runtime.duet_record import MAX_JSON_BYTES, sheet_image

    try:
        return sheet_image(read_nofollow(archive.path(wid, "duet.json"), MAX_JSON_BYTES), side)
    except (OSError, UserError):
        return None


def _thumb(archive: Archive, wid: str, names: tuple[str, ...], side: int) -> np.ndarray:
    """(side, side, 3) BGR: the first of `names` the work has, fitted with its proportions on white; grey if none."""
    img = None
    for name in names:
        try:
            data = np.frombuffer(archive.path(wid, name).read_bytes(), np.uint8)
            img = cv2.imdecode(data, cv2.IMREAD_COLOR)
        except (OSError, UserError):
            img = None
        if img is not None:
            break
    if img is None:
        return np.full((side, side, 3), 200, np.uint8)
    h, w = img.shape[:2]
    k = side / max(h, w)
    fw, fh = max(1, round(w * k)), max(1, round(h * k))
    tile = np.full((side, side, 3), 255, np.uint8)
    y0, x0 = (side - fh) // 2, (side - fw) // 2
    tile[y0 : y0 + fh, x0 : x0 + fw] = cv2.resize(img, (fw, fh), interpolation=cv2.INTER_AREA)
    return tile
