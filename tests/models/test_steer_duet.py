"""The duet strokes generator: it only adds ink to the sheet, and its penalty moves strokes off the artist's ink."""

import numpy as np
import torch

from models.steer.duet import DuetStrokesGenerator


def band_sheet(side: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    sheet = torch.ones(side, side)
    sheet[:, 28:36] = 0.1  # the artist's vertical band
    avoid = (sheet < 0.5).float()
    return sheet, avoid


def test_the_sheet_is_never_lightened_and_the_new_strokes_are_drawn() -> None:
    sheet, avoid = band_sheet()
    starts = [np.array([[0.1, 0.2], [0.2, 0.25], [0.3, 0.3], [0.4, 0.35]]), np.array([[0.7, 0.7], [0.8, 0.75]] * 2)]
    g = DuetStrokesGenerator(sheet, avoid, starts)
    img = g()
    assert img.shape == (3, 64, 64)
    assert (img <= sheet[None] + 1e-6).all()  # multiplied onto the sheet: nothing erased
    assert (img[0] < 0.5).sum() > 20  # the new ink is there
    assert len(g.paths()) == 2 and g.paths()[0].shape[1] == 2


def test_the_penalty_pushes_a_stroke_lying_on_the_artists_line_off_it() -> None:
    sheet, avoid = band_sheet()
    on_band = np.array([[0.5, 0.2], [0.5, 0.35], [0.52, 0.5], [0.5, 0.65]])  # along the band
    g = DuetStrokesGenerator(sheet, avoid, [on_band], avoid_weight=1.0, lr=0.01)
    opt = torch.optim.Adam(g.param_groups())
    g()
    first = float(g.penalty().detach())
    for _ in range(60):
        opt.zero_grad()
        g()
        g.penalty().backward()
        opt.step()
        g.constrain()
    g()
    assert first > 0.5 and float(g.penalty().detach()) < 0.5 * first
