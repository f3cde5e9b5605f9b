"""`python benchmarks/model_card.py`: held-out metrics and the sheet of held-out sketches → outputs for a model card.

Runs the exported ONNX model (through the project's runtime) on every validation item of a data pack with its
deterministic validation sketch, reports L1 and SSIM (overall and for people), and draws a sheet of people first.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from installation.runtime.inference import RuntimeSettings, open_model  # noqa: E402
from models.data.dataset import to_tensor_rgb  # noqa: E402
from models.data.pack import Pack  # noqa: E402
from models.pix2pix.metrics import l1, ssim  # noqa: E402
from models.pix2pix.sheet import make_sheet  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(prog="benchmarks/model_card.py")
    ap.add_argument("--model", type=Path, default=Path("installation/assets/models/pix2pix_default.onnx"))
    ap.add_argument("--data", type=Path, default=Path("data/clipart/pack.npz"))
    ap.add_argument("--sheet", type=Path, default=Path("installation/assets/models/pix2pix_default_heldout.png"))
    ap.add_argument("--json", type=Path, default=Path("installation/assets/models/pix2pix_default_heldout.json"))
    ap.add_argument("--rows", type=int, default=12)
    args = ap.parse_args()
    from models.data.dataset import rasterize_val_sketches

    model = open_model(args.model, None, RuntimeSettings(providers=("cpu",), warmup_runs=1))
    pack = Pack(args.data)
    items = rasterize_val_sketches(args.data, len(pack.indices("val")))
    person = {pack.ids[i]: bool(pack.person[i]) for i in range(len(pack))}
    outs, targets, flags = [], [], []
    for _, sketch, target in items:
        outs.append(to_tensor_rgb(model.run(sketch)))
        targets.append(to_tensor_rgb(target))
    for item_id, _, _ in items:
        flags.append(person[item_id])
    y, t = torch.stack(outs), torch.stack(targets)
    m = torch.tensor(flags)
    report = {
        "model": str(args.model),
        "data": str(args.data),
        "val_items": len(items),
        "val_people": int(m.sum()),
        "l1": round(l1(y, t), 4),
        "ssim": round(ssim(y, t), 4),
        "people_l1": round(l1(y[m], t[m]), 4),
        "people_ssim": round(ssim(y[m], t[m]), 4),
        "baseline_white_l1": round(l1(torch.ones_like(t), t), 4),
    }
    # the sheet: drawings from the people/ folder first (faces and heads), then other held-out items
    face = ("head", "face", "bust", "smil", "beethov", "man", "boy", "girl", "woman", "buddy", "fata", "nurse")
    order = sorted(
        range(len(items)),
        key=lambda k: (not any(w in items[k][0].lower() for w in face), not flags[k], items[k][0]),
    )
    rows = [[items[k][1], model.run(items[k][1]), items[k][2]] for k in order[: args.rows]]
    half = (len(rows) + 1) // 2
    left = make_sheet(rows[:half], ["held-out sketch", "model output", "clipart target"])
    right = make_sheet(rows[half:], ["held-out sketch", "model output", "clipart target"])
    if right.shape[0] < left.shape[0]:
        right = np.vstack([right, np.full((left.shape[0] - right.shape[0], right.shape[1], 3), 255, np.uint8)])
    cv2.imwrite(str(args.sheet), np.hstack([left, right])[:, :, ::-1])
    report["sheet"] = str(args.sheet)
    report["sheet_items"] = [items[k][0] for k in order[: args.rows]]
    args.json.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
