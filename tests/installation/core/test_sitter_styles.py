"""`sitter.styles` → a style per robot: in order, cycling, pinned entries first; the progress line of several."""

import pytest

from installation.core.config import SITTER_STYLES
from installation.core.errors import UserError
from installation.core.sitter_styles import assign_styles, progress_line

R = ["10.0.0.1:9100", "10.0.0.2:9100", "10.0.0.3:9100", "10.0.0.4:9100"]


def test_styles_are_dealt_in_order_and_cycle() -> None:
    assert assign_styles(R, [], "portrait", SITTER_STYLES) == ["portrait"] * 4
    assert assign_styles(R, ["quick", "shaded"], "portrait", SITTER_STYLES) == ["quick", "shaded", "quick", "shaded"]
    assert assign_styles(R[:2], ["quick", "portrait", "shaded"], "x", SITTER_STYLES) == ["quick", "portrait"]
    assert assign_styles(R[:1], ["shaded"], "portrait", SITTER_STYLES) == ["shaded"]


def test_a_pinned_robot_keeps_its_style_and_the_rest_cycle_past_it() -> None:
    styles = ["quick", " 10.0.0.2:9100 = shaded", "portrait"]
    assert assign_styles(R, styles, "x", SITTER_STYLES) == ["quick", "shaded", "portrait", "quick"]
    assert assign_styles(R[:2], ["10.0.0.1:9100=quick"], "portrait", SITTER_STYLES) == ["quick", "portrait"]


@pytest.mark.parametrize(
    ("styles", "says"),
    [
        (["quick", ""], "has ''"),
        (["Quick"], "has 'Quick'"),
        (["10.0.0.9:9100=quick"], "not a robot here"),
        (["10.0.0.1:9100=quick", "10.0.0.1:9100=shaded"], "twice"),
        (["10.0.0.1=quick"], "HOST:PORT"),
    ],
)
def test_mistakes_name_the_entry(styles: list[str], says: str) -> None:
    with pytest.raises(UserError, match="sitter.styles") as e:
        assign_styles(R, styles, "portrait", SITTER_STYLES)
    assert says in str(e.value)


def test_progress_line_names_each_robot() -> None:
    line = progress_line([("quick", "idle", 39, 39), ("portrait", "lost", 12, 80), ("shaded", "given_up", 5, 80)])
    assert line == (
        "The robots are drawing you: 1 quick: finished | 2 portrait: 12 of 80 (lost) | 3 shaded: stopped at 5 of 80"
    )
