from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from installation.core.errors import UserError
from models.pix2pix.checkpoint import load_generator, save_checkpoint
from models.pix2pix.config import Pix2PixConfig
from models.pix2pix.losses import (
    GAN_LOSSES,
    d_loss,
    far_consistency,
    feature_matching,
    g_loss,
    lattice_excess,
    lattice_log_ratios,
)
from models.pix2pix.metrics import l1, lattice_peak, ssim
from models.pix2pix.networks import (
    BlurConv2d,
    MultiScaleDiscriminator,
    PatchDiscriminator,
    UnetGenerator,
    count_parameters,
    init_weights,
)


def test_reference_parameter_counts() -> None:
    # the reference unet_256 (ngf 64, 3 in / 3 out, batch norm) has 54.4 M parameters; its PatchGAN 2.77 M
    g = UnetGenerator(Pix2PixConfig(input_nc=3, output_nc=3, ngf=64, norm="batch"))
    assert abs(count_parameters(g) - 54.414e6) < 0.01e6
    d = PatchDiscriminator(Pix2PixConfig(input_nc=3, output_nc=3, ndf=64, norm="batch"))
    assert abs(count_parameters(d) - 2.769e6) < 0.01e6


@pytest.mark.parametrize("res", [128, 256])
def test_shapes_and_range(res: int) -> None:
    cfg = Pix2PixConfig(ngf=4, resolution=res)
    g = UnetGenerator(cfg).eval()
    y = g(torch.rand(2, 1, res, res) * 2 - 1)
    assert y.shape == (2, 3, res, res) and y.abs().max() <= 1
    d = PatchDiscriminator(Pix2PixConfig(ndf=8, resolution=res))
    assert d(torch.cat([torch.zeros(1, 1, res, res), y[:1]], 1)).shape == (1, 1, res // 8 - 2, res // 8 - 2)


def test_bad_config_is_a_user_error() -> None:
    with pytest.raises(UserError, match="resolution"):
        Pix2PixConfig(resolution=300)
    with pytest.raises(UserError, match="unknown keys"):
        Pix2PixConfig.from_dict({"ngf": 8, "colour": 1})


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    # two sketches (ink outlines of a square and a disc) and their filled, coloured targets
    x = torch.ones(2, 1, 128, 128)
    y = torch.ones(2, 3, 128, 128)
    x[0, :, 30:98, 30] = x[0, :, 30:98, 97] = x[0, :, 30, 30:98] = x[0, :, 97, 30:98] = -1
    y[0, :, 30:98, 30:98] = torch.tensor([0.8, -0.6, -0.6])[:, None, None]
    yy, xx = torch.meshgrid(torch.arange(128), torch.arange(128), indexing="ij")
    r = ((yy - 64) ** 2 + (xx - 64) ** 2).float().sqrt()
    x[1, 0][(r - 40).abs() < 1.5] = -1
    y[1][:, r < 40] = torch.tensor([-0.6, -0.4, 0.8])[:, None]
    return x, y


@pytest.mark.slow
def test_one_batch_overfit_drives_l1_down() -> None:
    torch.manual_seed(0)
    g = UnetGenerator(Pix2PixConfig(ngf=8, resolution=128))
    init_weights(g)
    x, y = _batch()
    opt = torch.optim.Adam(g.parameters(), lr=2e-3, betas=(0.5, 0.999))
    first = F.l1_loss(g(x), y).item()
    for _ in range(60):
        loss = F.l1_loss(g(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    last = F.l1_loss(g(x), y).item()
    assert last < first / 4, (first, last)


@pytest.mark.slow
def test_checkpoint_round_trip_gives_identical_outputs(tmp_path: Path) -> None:
    cfg = Pix2PixConfig(ngf=4, resolution=128)
    g = UnetGenerator(cfg).eval()
    save_checkpoint(tmp_path / "g.pt", g, cfg, epoch=3)
    g2, cfg2, meta = load_generator(tmp_path / "g.pt")
    x = torch.rand(1, 1, 128, 128)
    assert cfg2 == cfg and meta["epoch"] == 3 and len(meta["sha256"]) == 64
    assert torch.equal(g(x), g2(x))
    with pytest.raises(UserError, match="is for 128"):
        load_generator(tmp_path / "g.pt", expect_resolution=256)


def test_foreign_and_truncated_checkpoints(tmp_path: Path) -> None:
    torch.save({"weights": 1}, tmp_path / "foreign.pt")
    with pytest.raises(UserError, match="not a pix2pix checkpoint"):
        load_generator(tmp_path / "foreign.pt")
    (tmp_path / "cut.pt").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(UserError, match="cannot be read"):
        load_generator(tmp_path / "cut.pt")
    with pytest.raises(UserError, match="does not exist"):
        load_generator(tmp_path / "none.pt")


def test_metrics() -> None:
    a = torch.rand(1, 3, 32, 32) * 2 - 1
    assert l1(a, a) == 0 and abs(ssim(a, a) - 1) < 1e-4
    assert ssim(a, -a) < 0.5 and l1(a, -a) > 0.5


def _answer_at_init(upsample: str, seed: int) -> np.ndarray:
    torch.manual_seed(seed)
    g = UnetGenerator(Pix2PixConfig(ngf=8, upsample=upsample))
    init_weights(g)
    with torch.no_grad():
        y = g.eval()(torch.ones(1, 1, 256, 256))[0]  # blank paper in
    return ((y.permute(1, 2, 0).numpy() + 1) * 127.5).clip(0, 255)  # (256, 256, 3)


@pytest.mark.parametrize("seed", [0, 1])
def test_resize_upsampling_starts_free_of_the_lattice(seed: int) -> None:
    # from a constant input at initialisation: transposed convolutions already print a checkerboard,
    # conv + bilinear up-sampling does not
    resize, transpose = _answer_at_init("resize", seed), _answer_at_init("transpose", seed)
    assert resize.std() > 1  # not trivially flat: there is structure, just no lattice
    assert lattice_peak(resize) < 20
    assert lattice_peak(transpose) > 500


def test_resize_generator_shapes_range_and_cost() -> None:
    cfg = Pix2PixConfig(ngf=16, upsample="resize")
    g = UnetGenerator(cfg).eval()
    y = g(torch.rand(2, 1, 256, 256) * 2 - 1)
    assert y.shape == (2, 3, 256, 256) and y.abs().max() <= 1
    # cheaper than the reference up-convolutions at the same width
    assert count_parameters(g) < count_parameters(UnetGenerator(Pix2PixConfig(ngf=16)))
    with pytest.raises(UserError, match="upsample"):
        Pix2PixConfig(upsample="deconv")


def test_blurred_down_conv_does_not_fold_a_checkerboard() -> None:
    # a period-2 checkerboard is above the half-resolution Nyquist: a plain stride-2 conv folds it into its
    # output (and the pattern's one-pixel shift gives another output); the blurred conv sees only its mean
    torch.manual_seed(0)
    plain = torch.nn.Conv2d(3, 8, 4, 2, 1)
    blur = BlurConv2d(3, 8, 4, 2, 1)
    blur.load_state_dict(plain.state_dict())  # same parameters, same names: the buffer is not saved
    yy, xx = torch.meshgrid(torch.arange(32), torch.arange(32), indexing="ij")
    board = ((yy + xx) % 2).float().expand(1, 3, 32, 32)  # [1, 3, 32, 32] in {0, 1}
    grey = torch.full_like(board, 0.5)
    shifted = board.roll(1, dims=3)
    inner = (slice(None), slice(None), slice(1, -1), slice(1, -1))  # away from the padded border
    with torch.no_grad():
        assert (plain(board) - plain(shifted))[inner].abs().max() > 0.1
        assert (blur(board) - blur(shifted))[inner].abs().max() < 1e-5
        assert (blur(board) - blur(grey))[inner].abs().max() < 1e-5
        smooth = torch.linspace(0, 1, 32).expand(1, 3, 32, 32)  # a slow ramp passes almost unchanged
        assert (blur(smooth) - plain(smooth))[inner].abs().max() < 0.02


def test_blur_generator_keeps_the_strided_names_and_exports(tmp_path: Path) -> None:
    from installation.runtime.inference import RuntimeSettings, open_model
    from models.pix2pix.export import export

    strided = Pix2PixConfig(ngf=4, resolution=128, upsample="resize")
    blurred = Pix2PixConfig(ngf=4, resolution=128, upsample="resize", downsample="blur")
    assert Pix2PixConfig.from_dict({k: v for k, v in blurred.to_dict().items() if k != "downsample"}) == strided
    assert Pix2PixConfig.from_dict(blurred.to_dict()) == blurred
    with pytest.raises(UserError, match="downsample"):
        Pix2PixConfig(downsample="maxpool")
    torch.manual_seed(2)
    a, b = UnetGenerator(strided), UnetGenerator(blurred)
    init_weights(a)
    assert {k: v.shape for k, v in a.state_dict().items()} == {k: v.shape for k, v in b.state_dict().items()}
    b.load_state_dict(a.state_dict())  # a strided model starts a blurred one whole
    x = torch.rand(1, 1, 128, 128) * 2 - 1
    with torch.no_grad():
        ya, yb = a.eval()(x), b.eval()(x)
    assert yb.shape == ya.shape and (ya - yb).abs().max() > 1e-3  # the low-pass is really in the path
    save_checkpoint(tmp_path / "b.pt", b.eval(), blurred)
    report = export(tmp_path / "b.pt", tmp_path / "b.onnx", parity_count=2)
    assert report["parity"]["max_abs_diff"] <= 1e-3
    model = open_model(tmp_path / "b.onnx", None, RuntimeSettings(providers=("cpu",), warmup_runs=0))
    sketch = ((x[0, 0].numpy() + 1) * 127.5).astype(np.uint8)
    with torch.no_grad():
        want = b(torch.from_numpy(sketch).float()[None, None] / 127.5 - 1)[0]
    want_u8 = ((want.permute(1, 2, 0).numpy() + 1) * 127.5).clip(0, 255)
    assert np.abs(model.run(sketch).astype(float) - want_u8).max() <= 2


def test_multiscale_discriminator_and_losses() -> None:
    cfg = Pix2PixConfig(ndf=8, num_d=3)
    d = MultiScaleDiscriminator(cfg)
    pair = torch.rand(2, 4, 256, 256)
    feats = d.features(pair)
    assert len(feats) == 3 and [f[-1].shape[-1] for f in feats] == [30, 14, 6]  # 256, 128, 64 inputs
    real, fake = d(pair), d(torch.zeros_like(pair))
    for kind in GAN_LOSSES:
        assert d_loss(kind, real, fake).ndim == 0 and g_loss(kind, fake).ndim == 0
    # least squares and hinge: a discriminator that is right everywhere has zero loss
    ones, minus = [torch.ones(1, 1, 4, 4)], [-torch.ones(1, 1, 4, 4)]
    assert d_loss("hinge", ones, minus) == 0
    assert d_loss("lsgan", ones, [torch.zeros(1, 1, 4, 4)]) == 0
    assert feature_matching(feats, feats) == 0
    assert feature_matching(feats, d.features(torch.zeros_like(pair))) > 0


def test_far_consistency_only_counts_far_pixels() -> None:
    a = torch.zeros(1, 3, 8, 8)
    b = a.clone()
    b[..., :4] = 1  # changed on the left half only
    far = torch.zeros(1, 1, 8, 8)
    far[..., 4:] = 1  # the right half is far from the newest stroke
    assert far_consistency(a, b, far) == 0
    far[..., :] = 1
    assert abs(float(far_consistency(a, b, far)) - 0.5) < 1e-6


def _grainy(amp: float, period: int = 4) -> np.ndarray:
    """A smooth shaded image (256², RGB uint8) with a period-`period` checkerboard of amplitude amp on top."""
    yy, xx = np.mgrid[:256, :256]
    base = 0.5 + 0.3 * np.sin(xx / 40.0) * np.cos(yy / 33.0)
    grain = np.sign(np.sin(2 * np.pi * (xx + 0.5) / period)) * np.sign(np.sin(2 * np.pi * (yy + 0.5) / period))
    grey = np.rint(np.clip(base + amp * grain, 0, 1) * 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)


def _as_answer(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(img).permute(2, 0, 1)[None].float() / 127.5 - 1  # [1, 3, 256, 256] in [-1, 1]


@pytest.mark.parametrize(("amp", "period"), [(0.0, 4), (0.004, 2), (0.004, 8), (0.02, 4)])
def test_lattice_term_measures_what_the_metric_measures(amp: float, period: int) -> None:
    img = _grainy(amp, period)
    assert abs(float(lattice_log_ratios(_as_answer(img)).max().exp()) / lattice_peak(img) - 1) < 1e-3


def test_lattice_term_is_zero_on_a_smooth_drawing_and_its_gradient_removes_grain() -> None:
    smooth, grainy = _grainy(0.0), _grainy(0.02)
    assert lattice_peak(smooth) < 10 < 1000 < lattice_peak(grainy)
    assert lattice_excess(_as_answer(smooth), 10.0) == 0
    x = _as_answer(grainy).requires_grad_(True)
    opt = torch.optim.Adam([x], lr=0.001)
    for _ in range(50):
        opt.zero_grad()
        loss = lattice_excess(x, 10.0)
        loss.backward()
        opt.step()
    out = ((x.detach()[0].permute(1, 2, 0).numpy() + 1) * 127.5).clip(0, 255)
    assert lattice_peak(out) < 0.01 * lattice_peak(grainy)
    # the drawing itself is kept: only the lattice frequencies move
    assert np.abs(out - smooth.astype(np.float64)).mean() < np.abs(grainy - smooth.astype(np.float64)).mean()


@pytest.mark.parametrize("noise", [0.0, 6.0])
def test_lattice_term_does_not_reward_blurring_the_answer(noise: float) -> None:
    # d(term)/d(s) for answer (1 - s)·grainy + s·blur(grainy) at s = 0: a term on the peak's power alone is lowered
    # by blurring everything (-7 here); the ratio to the ring is not, so training removes grain and keeps lines
    import cv2

    img = _grainy(0.02).astype(np.float64)
    img += np.random.default_rng(0).normal(0, noise, img.shape[:2])[..., None]
    img = np.clip(img, 0, 255).astype(np.uint8)
    s = torch.zeros((), requires_grad=True)
    answer = (1 - s) * _as_answer(img) + s * _as_answer(cv2.GaussianBlur(img, (0, 0), 1.0))
    lattice_excess(answer, 10.0).backward()
    assert s.grad is not None and float(s.grad) > -0.5


def test_init_from_copies_the_encoder_only(tmp_path: Path) -> None:
    from models.pix2pix.train import init_from

    old_cfg = Pix2PixConfig(ngf=4, resolution=128)
    old = UnetGenerator(old_cfg)
    save_checkpoint(tmp_path / "old.pt", old, old_cfg)
    new = UnetGenerator(Pix2PixConfig(ngf=4, resolution=128, upsample="resize"))
    copied = init_from(new, tmp_path / "old.pt")
    down = [k for k, v in old.state_dict().items() if v.ndim == 4 and v.shape[-1] == 4 and "model" in k]
    mine = new.state_dict()
    shared = [k for k in down if k in mine and mine[k].shape == old.state_dict()[k].shape]
    assert copied >= len(shared) > 0
    assert all(torch.equal(mine[k], old.state_dict()[k]) for k in shared)
    with pytest.raises(UserError, match="no generator tensor"):
        init_from(UnetGenerator(Pix2PixConfig(ngf=8, resolution=128, upsample="resize")), tmp_path / "old.pt")
