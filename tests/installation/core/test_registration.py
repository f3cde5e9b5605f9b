import numpy as np
import pytest

from installation.core.errors import UserError
from installation.core.registration import Registration, TabletMapping, apply, fit_homography


def test_affine_from_three_points_is_exact_and_maps_new_points() -> None:
    m = np.array([[0.2, 0.01, 12.0], [-0.015, 0.19, 8.0], [0, 0, 1]])
    canvas = np.array([[0, 0], [1024, 0], [0, 1024]], float)
    reg = Registration.fit(canvas, apply(m, canvas))
    assert reg.kind == "affine" and reg.residual_mm < 1e-9
    probe = np.array([[512.0, 300.0], [1000.0, 1000.0]])
    assert np.allclose(reg.to_mm(probe), apply(m, probe))


def test_homography_from_noisy_points_reports_its_residual() -> None:
    rng = np.random.default_rng(1)
    h = np.array([[0.2, 0.01, 12.0], [-0.015, 0.19, 8.0], [1e-5, -2e-5, 1]])
    canvas = rng.uniform(0, 1024, (8, 2))
    mm = apply(h, canvas) + rng.normal(0, 0.2, (8, 2))
    reg = Registration.fit(canvas, mm, "homography")
    assert 0.05 < reg.residual_mm < 0.4 and reg.max_residual_mm >= reg.residual_mm
    assert np.abs(reg.to_mm(canvas) - apply(h, canvas)).max() < 0.5
    assert np.allclose(fit_homography(canvas, apply(h, canvas)), h / h[2, 2], atol=1e-6)


def test_bad_registrations_are_clear_errors() -> None:
    with pytest.raises(UserError, match="at least 4"):
        Registration.fit(np.zeros((3, 2)) + [[0, 0], [1, 0], [0, 1]], np.zeros((3, 2)), "homography")
    with pytest.raises(UserError, match="one line"):
        Registration.fit(np.array([[0, 0], [1, 1], [2, 2]], float), np.zeros((3, 2)))
    with pytest.raises(UserError, match="kind"):
        Registration.fit(np.eye(3)[:, :2] * 5, np.zeros((3, 2)), "spline")


def test_tablet_mapping_area_aspect_rotation_margin() -> None:
    square = TabletMapping(aspect=1.0)
    assert square.to_canvas(0, 0, 100) == (0, 0) and square.to_canvas(1, 1, 100) == (100, 100)
    wide = TabletMapping(aspect=2.0)  # a 2:1 surface: the centred square is its middle half
    assert wide.to_canvas(0.1, 0.5, 100) is None
    assert wide.to_canvas(0.25, 0.0, 100) == pytest.approx((0, 0))
    assert wide.to_canvas(0.75, 1.0, 100) == pytest.approx((100, 100))
    framed = TabletMapping(aspect=1.0, margin=0.1)
    assert framed.to_canvas(0.05, 0.5, 100) is None and framed.to_canvas(0.5, 0.5, 100) == pytest.approx((50, 50))
    sub = TabletMapping(area=(0.5, 0.5, 1.0, 1.0), aspect=1.0)
    assert sub.to_canvas(0.5, 0.5, 100) == (0, 0) and sub.to_canvas(0.4, 0.6, 100) is None


# the tablet's own corners, clockwise from its top-left, as (u, v) it reports; the same order on the canvas
CORNERS = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_tablet_mapping_sends_each_corner_where_the_mounting_put_it(rotation: int) -> None:
    """A tablet turned clockwise by k quarter turns carries its corner i to the visitor's corner i + k.

    (Seen from above: turned 90° clockwise, the tablet's top-left corner sits at the visitor's top-right.)
    """
    mapping = TabletMapping(aspect=1.0, rotation=rotation)
    k = rotation // 90
    for i, (u, v) in enumerate(CORNERS):
        cx, cy = CORNERS[(i + k) % 4]
        assert mapping.to_canvas(u, v, 100) == pytest.approx((cx * 100, cy * 100)), (rotation, (u, v))
    # a point near the tablet's top edge lands near the edge that top edge now faces
    near_top = {0: (50, 10), 90: (90, 50), 180: (50, 90), 270: (10, 50)}[rotation]
    assert mapping.to_canvas(0.5, 0.1, 100) == pytest.approx(near_top)


def test_tablet_mapping_rejects_bad_values() -> None:
    for kwargs, words in [
        ({"area": (0.5, 0, 0.4, 1)}, "x0 < x1"),
        ({"rotation": 45}, "rotation"),
        ({"margin": 0.6}, "margin"),
    ]:
        with pytest.raises(UserError, match=words):
            TabletMapping(**kwargs)  # type: ignore[arg-type]
