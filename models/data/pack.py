"""One data-pack format for every source: a single .npz (no pickle) of paired items.

Per item: id, title, category, source kind, split, person flag, the target image (encoded bytes) and either
outline polylines (clipart: the sketch is made from them on the fly, a new one each time) or a fixed sketch
image (photos, artists' pairs). Small enough to carry to a GPU machine; a large pack is split into parts of at
most 60 MB each (`python -m models.data.pack split PACK DIR`), and a folder of parts (DIR/pack-000.npz, …)
reads as one pack, item order kept.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from installation.core.errors import UserError

FORMAT = "pix2pix-pack"
VERSION = 1


@dataclass
class PackItem:
    id: str
    title: str
    category: str
    kind: str  # clipart | photo | pair
    split: str  # train | val
    person: bool
    target: bytes  # encoded RGB image (WebP/PNG)
    sketch: bytes = b""  # encoded grey image, for kinds without outlines
    outlines: list[np.ndarray] = field(default_factory=list)  # float [K, 2] in target pixels


def encode_rgb(rgb: np.ndarray, quality: int = 92) -> bytes:
    ok, buf = cv2.imencode(".webp", rgb[:, :, ::-1], [cv2.IMWRITE_WEBP_QUALITY, quality])
    assert ok
    return buf.tobytes()


def encode_gray(gray: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", gray)
    assert ok
    return buf.tobytes()


def decode_rgb(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)[:, :, ::-1].copy()


def decode_gray(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)


def _blob(chunks: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    off = np.zeros(len(chunks) + 1, np.int64)
    off[1:] = np.cumsum([len(c) for c in chunks])
    return np.frombuffer(b"".join(chunks), np.uint8).copy(), off


def clean_line(line: np.ndarray) -> np.ndarray:
    """Finite points only, inside the range float16 stores exactly enough (far off-canvas points are clipped)."""
    line = np.asarray(line, np.float32)
    return np.clip(line[np.isfinite(line).all(axis=1)], -2048.0, 2048.0)


def write_pack(path: Path, items: list[PackItem], meta: dict[str, Any]) -> None:
    """Atomic write: a temporary file beside the target, then rename."""
    for it in items:
        it.outlines = [ln for ln in map(clean_line, it.outlines) if len(ln) >= 2]
    targets, t_off = _blob([it.target for it in items])
    sketches, s_off = _blob([it.sketch for it in items])
    lines = [ln for it in items for ln in it.outlines]
    pts = np.concatenate(lines).astype(np.float16) if lines else np.zeros((0, 2), np.float16)
    line_off = np.zeros(len(lines) + 1, np.int64)
    line_off[1:] = np.cumsum([len(ln) for ln in lines])
    item_line_off = np.zeros(len(items) + 1, np.int64)
    item_line_off[1:] = np.cumsum([len(it.outlines) for it in items])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(
        tmp,
        format=np.array([FORMAT]),
        version=np.array([VERSION]),
        meta=np.array([json.dumps(meta)]),
        ids=np.array([it.id for it in items]),
        titles=np.array([it.title for it in items]),
        categories=np.array([it.category for it in items]),
        kinds=np.array([it.kind for it in items]),
        splits=np.array([it.split for it in items]),
        person=np.array([it.person for it in items], bool),
        targets=targets,
        target_off=t_off,
        sketches=sketches,
        sketch_off=s_off,
        pts=pts,
        line_off=line_off,
        item_line_off=item_line_off,
    )
    os.replace(tmp, path)


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    try:
        z = np.load(path, allow_pickle=False)
        if str(z["format"][0]) != FORMAT:
            raise KeyError("format")
        arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, KeyError) as e:
        raise UserError(f"{path} is not a data pack ({e}): rebuild it with `python run.py build-data ...`") from e
    if int(arrays["version"][0]) != VERSION:
        raise UserError(f"data pack {path} has version {arrays['version'][0]}, expected {VERSION}: rebuild it")
    return arrays


PER_ITEM = ("ids", "titles", "categories", "kinds", "splits", "person")


def _merge(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Arrays of several parts as one pack: per-item arrays concatenated, blobs and offsets shifted."""
    out = {k: parts[0][k] for k in ("format", "version", "meta")}
    for k in PER_ITEM:
        out[k] = np.concatenate([p[k] for p in parts])
    for blob, off in (("targets", "target_off"), ("sketches", "sketch_off"), ("pts", "line_off")):
        out[blob] = np.concatenate([p[blob] for p in parts])
        base = np.cumsum([0] + [len(p[blob]) for p in parts[:-1]])
        out[off] = np.concatenate([parts[0][off][:1]] + [p[off][1:] + b for p, b in zip(parts, base, strict=True)])
    lines = np.cumsum([0] + [len(p["line_off"]) - 1 for p in parts[:-1]])
    out["item_line_off"] = np.concatenate(
        [parts[0]["item_line_off"][:1]] + [p["item_line_off"][1:] + b for p, b in zip(parts, lines, strict=True)]
    )
    return out


class Pack:
    """A read pack (one file, or a folder of parts): arrays in memory, items decoded on demand."""

    def __init__(self, path: Path) -> None:
        path = Path(path)
        parts = sorted(path.glob("pack-[0-9][0-9][0-9].npz")) if path.is_dir() else []
        if path.is_dir() and (path / "pack.npz").is_file() or not parts:
            path = path / "pack.npz" if path.is_dir() else path
            if not path.is_file():
                raise UserError(f"data pack {path} does not exist: build one with `python run.py build-data ...`")
            self.arrays = _read_arrays(path)
        else:
            self.arrays = _merge([_read_arrays(p) for p in parts])
        self.path = path
        self.meta = json.loads(str(self.arrays["meta"][0]))
        self.ids = [str(s) for s in self.arrays["ids"]]
        self.titles = [str(s) for s in self.arrays["titles"]]
        self.kinds = [str(s) for s in self.arrays["kinds"]]
        self.splits = [str(s) for s in self.arrays["splits"]]
        self.person = self.arrays["person"]

    def __len__(self) -> int:
        return len(self.ids)

    def indices(self, split: str) -> list[int]:
        return [i for i, s in enumerate(self.splits) if s == split]

    def target(self, i: int) -> np.ndarray:
        a, o = self.arrays["targets"], self.arrays["target_off"]
        return decode_rgb(a[o[i] : o[i + 1]].tobytes())

    def sketch(self, i: int) -> np.ndarray | None:
        a, o = self.arrays["sketches"], self.arrays["sketch_off"]
        return decode_gray(a[o[i] : o[i + 1]].tobytes()) if o[i + 1] > o[i] else None

    def outlines(self, i: int) -> list[np.ndarray]:
        il, lo, pts = self.arrays["item_line_off"], self.arrays["line_off"], self.arrays["pts"]
        return [pts[lo[j] : lo[j + 1]].astype(np.float32) for j in range(il[i], il[i + 1])]


def item(pack: Pack, i: int) -> PackItem:
    """Item i of a read pack, as written."""
    a = pack.arrays
    sk = a["sketches"][a["sketch_off"][i] : a["sketch_off"][i + 1]].tobytes()
    return PackItem(
        pack.ids[i],
        pack.titles[i],
        str(a["categories"][i]),
        pack.kinds[i],
        pack.splits[i],
        bool(pack.person[i]),
        a["targets"][a["target_off"][i] : a["target_off"][i + 1]].tobytes(),
        sk,
        pack.outlines(i),
    )


def split_pack(src: Path, out: Path, max_mb: float = 60.0) -> list[Path]:
    """Write OUT/pack-000.npz, … each at most about max_mb (items in order); returns the part paths."""
    pack = Pack(src)
    if len(pack) == 0:
        raise UserError(f"data pack {src} is empty: nothing to split")
    out.mkdir(parents=True, exist_ok=True)
    budget = max_mb * 2**20 * 0.95
    paths: list[Path] = []
    chunk: list[PackItem] = []
    size = 0.0
    for i in range(len(pack)):
        it = item(pack, i)
        n = len(it.target) + len(it.sketch) + sum(len(ln) for ln in it.outlines) * 4 + 600
        if chunk and size + n > budget:
            paths.append(out / f"pack-{len(paths):03d}.npz")
            write_pack(paths[-1], chunk, pack.meta)
            chunk, size = [], 0.0
        chunk.append(it)
        size += n
    paths.append(out / f"pack-{len(paths):03d}.npz")
    write_pack(paths[-1], chunk, pack.meta)
    return paths


def main(argv: list[str] | None = None) -> int:
    import argparse
    import logging
    import sys

    ap = argparse.ArgumentParser(prog="python -m models.data.pack", description="split a data pack into parts")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sp = sub.add_parser("split", help="PACK → DIR/pack-000.npz, … (a folder of parts reads as one pack)")
    sp.add_argument("pack", type=Path)
    sp.add_argument("out", type=Path)
    sp.add_argument("--max-mb", type=float, default=60.0)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    try:
        paths = split_pack(args.pack, args.out, args.max_mb)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for p in paths:
        logging.info("%s: %.1f MB", p, p.stat().st_size / 2**20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
