"""`run.py train` / `python -m models.pix2pix.train`: train the pix2pix generator on a data pack.

Objective: GAN (--gan-loss vanilla | lsgan | hinge, over --num-d PatchGAN scales) + λ_fm · discriminator feature
matching + λ·L1 + λ_c · far-field consistency (on partial sketches: G(drawing less its newest stroke) against
G(drawing) where the newest stroke is more than 20 px away) + λ_lat · lattice excess (each lattice frequency's
power over its ring beyond --lattice-allowed, as metrics.lattice_peak measures it). Adam 2e-4 β1 0.5; constant
learning rate, then a linear decay to 0. With --time-budget-min the schedule follows the clock: constant for the
first half, decaying in the second, so a budgeted run still ends at lr 0, and the budget includes validation and
checkpoints.
--init-from copies every tensor of another checkpoint whose name and shape match (the encoder of a model with
another up-sampling). Writes RUNDIR/{last,best}.pt, metrics.jsonl, samples/, losses.png and summary.json.
Uses CUDA (bf16 autocast with --amp) when available.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from installation.core.errors import UserError
from installation.core.files import check_writable
from models.pix2pix.checkpoint import read_checkpoint, save_checkpoint
from models.pix2pix.config import DOWNSAMPLES, UPSAMPLES, Pix2PixConfig
from models.pix2pix.losses import GAN_LOSSES, d_loss, far_consistency, feature_matching, g_loss, lattice_excess
from models.pix2pix.metrics import l1, ssim
from models.pix2pix.networks import MultiScaleDiscriminator, UnetGenerator, init_weights
from models.pix2pix.sheet import make_sheet, to_uint8

log = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, required=True, help="data pack (.npz) or a folder holding pack.npz")
    p.add_argument("--out", type=Path, required=True, help="run folder")
    p.add_argument("--resolution", type=int, default=256)
    p.add_argument("--ngf", type=int, default=16)
    p.add_argument("--ndf", type=int, default=64)
    p.add_argument("--norm", default="instance", choices=("instance", "batch"))
    p.add_argument("--upsample", default="resize", choices=UPSAMPLES, help="resize: no lattice (default)")
    p.add_argument("--downsample", default="stride", choices=DOWNSAMPLES, help="blur: anti-aliased down convs")
    p.add_argument("--num-d", type=int, default=2, help="discriminator scales (pix2pixHD: 3)")
    p.add_argument("--n-layers-d", type=int, default=3)
    p.add_argument("--gan-loss", default="lsgan", choices=GAN_LOSSES)
    p.add_argument("--lambda-fm", type=float, default=10.0, help="discriminator feature matching (0: off)")
    p.add_argument("--partial", type=float, default=0.5, help="share of training sketches cut to a stroke prefix")
    p.add_argument("--lambda-consistency", type=float, default=20.0, help="far-field steadiness (0: off)")
    p.add_argument("--consistency-items", type=int, default=4, help="items per batch that pay the extra pass")
    p.add_argument("--lambda-lattice", type=float, default=0.0, help="lattice grain over its ring (0: off)")
    p.add_argument("--lattice-allowed", type=float, default=6.0, help="lattice peak the term lets pass")
    p.add_argument("--init-from", type=Path, help="a checkpoint whose matching tensors start the generator")
    p.add_argument("--teacher", type=Path, help="a larger generator's checkpoint to distil (outputs + features)")
    p.add_argument("--lambda-distill", type=float, default=50.0, help="L1 to the teacher's answer")
    p.add_argument("--lambda-distill-feat", type=float, default=5.0, help="MSE to the teacher's block features")
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--epochs", type=int, default=100, help="epochs at constant lr (ignored with a time budget)")
    p.add_argument("--epochs-decay", type=int, default=100, help="epochs of linear decay to 0")
    p.add_argument("--time-budget-min", type=float, help="train for this long; the lr schedule follows the clock")
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--lambda-l1", type=float, default=100.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--amp", action="store_true", help="bf16 autocast (CUDA, or a CPU with bf16 instructions)")
    p.add_argument("--epoch-items", type=int, help="samples per epoch (validation + checkpoint after each)")
    p.add_argument("--resume", type=Path, help="a last.pt to continue from")
    p.add_argument("--val-items", type=int, default=64)
    p.add_argument("--sample-every-min", type=float, default=2.0)


def main(args: argparse.Namespace) -> int:
    from models.data.dataset import open_pairs

    check_writable(args.out, "--out", folder=True)  # before the data loads, not at the first checkpoint
    device = _device(args.device)
    _seed(args.seed)
    cfg = Pix2PixConfig(
        ngf=args.ngf,
        ndf=args.ndf,
        resolution=args.resolution,
        norm=args.norm,
        dropout=args.dropout,
        n_layers_d=args.n_layers_d,
        upsample=args.upsample,
        num_d=args.num_d,
        downsample=args.downsample,
    )
    # items carry before/far whenever consistency is on, even with no partial sketches (k = n then)
    partial = args.partial if args.partial > 0 else (1e-9 if args.lambda_consistency > 0 else 0.0)
    train_ds = open_pairs(args.data, "train", args.resolution, augment=True, seed=args.seed, partial=partial)
    val_ds = open_pairs(args.data, "val", args.resolution, augment=False, seed=args.seed)
    if len(train_ds) < 2 or len(val_ds) < 1:
        raise UserError(f"data pack {args.data} has {len(train_ds)} training / {len(val_ds)} validation items: too few")
    return train(args, cfg, train_ds, val_ds, device)


def train(args: argparse.Namespace, cfg: Pix2PixConfig, train_ds, val_ds, device: torch.device) -> int:  # noqa: ANN001
    from torch.utils.data import DataLoader, WeightedRandomSampler

    t_start = time.monotonic()  # the time budget counts the set-up too
    out: Path = args.out
    (out / "samples").mkdir(parents=True, exist_ok=True)
    g, d = UnetGenerator(cfg).to(device), MultiScaleDiscriminator(cfg).to(device)
    init_weights(g)
    init_weights(d)
    if args.init_from and not args.resume:
        copied = init_from(g, args.init_from)
        log.info("started %d generator tensors from %s", copied, args.init_from)
    teacher, maps = None, None
    if getattr(args, "teacher", None):
        from models.pix2pix.checkpoint import load_generator
        from models.pix2pix.distill import FeatureMaps

        teacher, tcfg, _ = load_generator(args.teacher, expect_resolution=cfg.resolution)
        teacher = teacher.to(device).eval().requires_grad_(False)
        maps = FeatureMaps(g, teacher, cfg.resolution).to(device)
        log.info("distilling teacher %s (ngf %d) into ngf %d", args.teacher, tcfg.ngf, cfg.ngf)
    opt_g = torch.optim.Adam(g.parameters(), lr=args.lr, betas=(0.5, 0.999))
    # the 1×1 feature maps learn beside G with their own optimiser (a run can gain a teacher on --resume)
    opt_maps = torch.optim.Adam(maps.parameters(), lr=args.lr, betas=(0.5, 0.999)) if maps is not None else None
    opt_d = torch.optim.Adam(d.parameters(), lr=args.lr, betas=(0.5, 0.999))
    epoch, step, best, history = 0, 0, math.inf, []
    elapsed_before = 0.0
    if args.resume:
        state = read_checkpoint(args.resume)
        if Pix2PixConfig.from_dict(state["config"]) != cfg:
            raise UserError(f"--resume {args.resume} was trained with another config: pass the same network options")
        g.load_state_dict(state["generator"])
        d.load_state_dict(state["discriminator"])
        if maps is not None and state.get("feature_maps"):
            maps.load_state_dict(state["feature_maps"])
        opt_g.load_state_dict(state["opt_g"])
        opt_d.load_state_dict(state["opt_d"])
        epoch, step, best = state["epoch"], state["step"], state.get("best_val_l1", math.inf)
        elapsed_before = state.get("wall_s", 0.0)
        history = state.get("history", [])
        log.info("resumed from %s at epoch %d, step %d", args.resume, epoch, step)
    weights = getattr(train_ds, "sample_weights", None)
    per_epoch = args.epoch_items or len(train_ds)
    sampler = WeightedRandomSampler(weights, per_epoch, replacement=True) if weights else None
    cuda = device.type == "cuda"
    loader = DataLoader(
        train_ds,
        batch_size=args.batch_size,
        sampler=sampler,
        shuffle=sampler is None,
        num_workers=args.workers,
        pin_memory=cuda,
        drop_last=len(train_ds) >= args.batch_size,
        persistent_workers=args.workers > 0,
    )
    if cuda:
        torch.backends.cudnn.benchmark = True
    amp = torch.autocast(device.type, dtype=torch.bfloat16) if args.amp else _null()
    val_batch = _val_batch(val_ds, args.val_items)
    sample_ids = list(range(min(6, len(val_ds))))
    t0 = t_start - elapsed_before
    budget_s = args.time_budget_min * 60 if args.time_budget_min else None
    total_epochs = args.epochs + args.epochs_decay
    last_sample = -math.inf
    samples_seen = 0
    # the budget includes the epoch's end: estimated now from one validation pass, measured after each epoch
    t_v = time.monotonic()
    start_val = _validate(g, val_batch, device, amp)
    end_cost = 2.0 * (time.monotonic() - t_v)
    log.info("before training: %s", json.dumps(start_val))
    done = False
    while not done:
        g.train()
        d.train()
        sums = {"g_gan": 0.0, "g_l1": 0.0, "g_fm": 0.0, "g_far": 0.0, "g_lat": 0.0, "d": 0.0}
        n = 0
        for batch in tqdm(loader, desc=f"epoch {epoch + 1}", leave=False, mininterval=5):
            lr = args.lr * _lr_factor(epoch, args, time.monotonic() - t0, budget_s)
            for opt in (opt_g, opt_d, *([opt_maps] if opt_maps is not None else [])):
                for group in opt.param_groups:
                    group["lr"] = lr
            x = batch["sketch"].to(device, non_blocking=True)  # [N, 1, S, S]
            y = batch["target"].to(device, non_blocking=True)  # [N, 3, S, S]
            with amp:
                if teacher is not None:
                    from models.pix2pix.distill import block_outputs

                    fake, feats_s = block_outputs(g, x)
                    with torch.no_grad():
                        t_fake, feats_t = block_outputs(teacher, x)
                else:
                    fake = g(x)
                # discriminator: real pairs → real, generated pairs → fake, at every scale
                feats_real = d.features(torch.cat([x, y], 1))
                feats_fake = d.features(torch.cat([x, fake.detach()], 1))
                loss_d = d_loss(args.gan_loss, [f[-1] for f in feats_real], [f[-1] for f in feats_fake])
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            with amp:
                feats_g = d.features(torch.cat([x, fake], 1))
                loss_gan = g_loss(args.gan_loss, [f[-1] for f in feats_g])
                loss_l1 = F.l1_loss(fake.float(), y)
                loss_g = loss_gan + args.lambda_l1 * loss_l1
                loss_fm = torch.zeros(())
                if args.lambda_fm > 0:
                    loss_fm = feature_matching(feats_real, feats_g)
                    loss_g = loss_g + args.lambda_fm * loss_fm
                loss_c = torch.zeros(())
                if args.lambda_consistency > 0 and "before" in batch:
                    c = min(args.consistency_items, x.shape[0])
                    before = batch["before"][:c].to(device, non_blocking=True)  # [c, 1, S, S]
                    far = batch["far"][:c].to(device, non_blocking=True)  # [c, 1, S, S]
                    loss_c = far_consistency(g(before), fake[:c], far)
                    loss_g = loss_g + args.lambda_consistency * loss_c
                loss_lat = torch.zeros(())
                if args.lambda_lattice > 0:
                    loss_lat = lattice_excess(fake, args.lattice_allowed)  # fp32 FFT inside
                    loss_g = loss_g + args.lambda_lattice * loss_lat
                if teacher is not None and maps is not None:
                    from models.pix2pix.distill import distill_loss

                    d_out, d_feat = distill_loss(fake, feats_s, t_fake, feats_t, maps)
                    loss_g = loss_g + args.lambda_distill * d_out + args.lambda_distill_feat * d_feat
            opt_g.zero_grad(set_to_none=True)
            if opt_maps is not None:
                opt_maps.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            if opt_maps is not None:
                opt_maps.step()
            step += 1
            n += 1
            samples_seen += x.shape[0]
            sums["g_gan"] += float(loss_gan.detach())
            sums["g_l1"] += float(loss_l1.detach())
            sums["d"] += float(loss_d.detach())
            sums["g_fm"] += float(loss_fm.detach())
            sums["g_far"] += float(loss_c.detach())
            sums["g_lat"] += float(loss_lat.detach())
            # the budget covers the epoch's end too: stop when validation + checkpoints would overrun it
            if budget_s is not None and time.monotonic() - t0 + end_cost >= budget_s:
                done = True
                break
        epoch += 1
        if budget_s is None and epoch >= total_epochs:
            done = True
        t_end = time.monotonic()
        val = _validate(g, val_batch, device, amp)
        wall = time.monotonic() - t0
        row = {"epoch": epoch, "step": step, "wall_s": round(wall, 1), "lr": lr}
        row.update({k: round(v / max(n, 1), 5) for k, v in sums.items()})
        row.update(val)
        history.append(row)
        with (out / "metrics.jsonl").open("a") as f:
            f.write(json.dumps(row) + "\n")
        log.info("epoch %d step %d: %s", epoch, step, json.dumps(row))
        extra = {
            "feature_maps": maps.state_dict() if maps is not None else {},
            "discriminator": d.state_dict(),
            "opt_g": opt_g.state_dict(),
            "opt_d": opt_d.state_dict(),
            "epoch": epoch,
            "step": step,
            "wall_s": wall,
            "history": history,
            "metrics": val,
            "seed": args.seed,
            "data": str(args.data),
        }
        if val["val_l1"] < best:
            best = val["val_l1"]
            save_checkpoint(out / "best.pt", g, cfg, **extra, best_val_l1=best)
        save_checkpoint(out / "last.pt", g, cfg, **extra, best_val_l1=best)
        if done or wall - last_sample >= args.sample_every_min * 60:
            _samples(g, val_ds, sample_ids, device, out / "samples" / f"epoch_{epoch:04d}.png")
            last_sample = wall
        end_cost = time.monotonic() - t_end
    _plot_losses(history, out / "losses.png")
    wall = time.monotonic() - t0
    summary: dict[str, Any] = {
        "epochs": epoch,
        "steps": step,
        "wall_s": round(wall, 1),
        "samples_per_s": round(samples_seen / max(wall - elapsed_before, 1e-9), 1),
        "device": torch.cuda.get_device_name(0) if cuda else "cpu",
        "final": history[-1] if history else {},
        "best_val_l1": best,
        "config": cfg.to_dict(),
        "args": {k: str(v) for k, v in vars(args).items() if not k.startswith("_")},
        "train_items": len(train_ds),
        "val_items": len(val_ds),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"trained {epoch} epochs / {step} steps in {wall / 60:.1f} min; best val L1 {best:.4f}; {out}")
    return 0


def init_from(g: nn.Module, path: Path) -> int:
    """Copy every generator tensor of checkpoint `path` whose name and shape match; returns how many."""
    theirs = read_checkpoint(path)["generator"]
    mine = g.state_dict()
    hits = {k: v for k, v in theirs.items() if k in mine and mine[k].shape == v.shape}
    if not hits:
        raise UserError(f"--init-from {path}: no generator tensor matches this network (another width?)")
    mine.update(hits)
    g.load_state_dict(mine)
    return len(hits)


def _lr_factor(epoch: int, args: argparse.Namespace, elapsed: float, budget_s: float | None) -> float:
    if budget_s is not None:
        frac = elapsed / budget_s
        return 1.0 if frac < 0.5 else max(0.0, (1.0 - frac) / 0.5)
    if epoch < args.epochs:
        return 1.0
    return max(0.0, 1.0 - (epoch - args.epochs + 1) / (args.epochs_decay + 1))


def _val_batch(val_ds, n: int) -> dict[str, torch.Tensor]:  # noqa: ANN001
    items = [val_ds[k] for k in range(min(n, len(val_ds)))]
    return {
        "sketch": torch.stack([it["sketch"] for it in items]),
        "target": torch.stack([it["target"] for it in items]),
    }


@torch.no_grad()
def _validate(g: nn.Module, batch: dict[str, torch.Tensor], device: torch.device, amp) -> dict[str, float]:  # noqa: ANN001
    g.eval()
    outs = []
    for i in range(0, len(batch["sketch"]), 16):
        with amp:
            outs.append(g(batch["sketch"][i : i + 16].to(device)).float().cpu())
    fake = torch.cat(outs)
    g.train()
    return {"val_l1": round(l1(fake, batch["target"]), 5), "val_ssim": round(ssim(fake, batch["target"]), 5)}


@torch.no_grad()
def _samples(g: nn.Module, val_ds, ids: list[int], device: torch.device, path: Path) -> None:  # noqa: ANN001
    g.eval()
    rows = []
    for k in ids:
        it = val_ds[k]
        fake = g(it["sketch"][None].to(device)).float().cpu()[0]
        rows.append([to_uint8(it["sketch"]), to_uint8(fake), to_uint8(it["target"])])
    g.train()
    cv2.imwrite(str(path), make_sheet(rows, ["sketch", "output", "target"])[:, :, ::-1])


def _plot_losses(history: list[dict[str, Any]], path: Path) -> None:
    """Training L1 and validation L1 per epoch, drawn with OpenCV (no plotting library needed)."""
    if not history:
        return
    w, h, pad = 640, 320, 40
    img = np.full((h, w, 3), 255, np.uint8)
    series = {
        "train L1": ([r["g_l1"] for r in history], (200, 80, 0)),
        "val L1": ([r["val_l1"] for r in history], (0, 0, 200)),
    }
    top = max(max(v) for v, _ in series.values()) * 1.05
    for j, (name, (vals, colour)) in enumerate(series.items()):
        xs = np.linspace(pad, w - pad, len(vals))
        ys = h - pad - np.array(vals) / top * (h - 2 * pad)
        pts = np.stack([xs, ys], 1).round().astype(np.int32)
        cv2.polylines(img, [pts], False, colour, 2, cv2.LINE_AA)
        for x, y in pts:  # a one-epoch run is a point, not a line
            cv2.circle(img, (int(x), int(y)), 3, colour, -1, cv2.LINE_AA)
        cv2.putText(img, name, (pad + 120 * j, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, 1, cv2.LINE_AA)
    cv2.rectangle(img, (pad, pad), (w - pad, h - pad), (0, 0, 0), 1)
    cv2.putText(
        img, f"epochs 1..{len(history)}  max {top:.3f}", (pad, h - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1
    )
    cv2.imwrite(str(path), img)


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *a: object) -> None:
        return None


def _device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda asked for, but torch sees no CUDA GPU: use --device auto or cpu")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def _seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


if __name__ == "__main__":
    import sys

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    parser = argparse.ArgumentParser(prog="models.pix2pix.train")
    add_arguments(parser)
    try:
        sys.exit(main(parser.parse_args()))
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
