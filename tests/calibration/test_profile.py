import json
from pathlib import Path

import pytest

from calibration.profile import (
    SCHEMA,
    CameraSection,
    PaperSection,
    Profile,
    load_or_new,
    load_profile,
    parse_profile,
    save_profile,
)
from installation.core.errors import UserError

CAMERA = CameraSection([[500.0, 0, 320], [0, 500.0, 240], [0, 0, 1]], [0.1, 0.0, 0.0, 0.0, 0.0], [640, 480], 0.2)


def test_round_trip_keeps_every_section(tmp_path: Path) -> None:
    path = tmp_path / "venue.json"
    p = Profile(venue="gallery").replace(camera=CAMERA, paper=PaperSection([210.0, 297.0], True, 0.5))
    save_profile(path, p)
    back = load_profile(path)
    assert back.camera == CAMERA and back.paper == p.paper and back.venue == "gallery" and back.updated
    assert json.loads(path.read_text())["schema"] == SCHEMA
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_a_step_replaces_its_section_and_keeps_the_others(tmp_path: Path) -> None:
    path = tmp_path / "venue.json"
    save_profile(path, load_or_new(path).replace(camera=CAMERA))
    save_profile(path, load_or_new(path).replace(paper=PaperSection([297.0, 420.0])))
    back = load_profile(path)
    assert back.camera == CAMERA and back.paper is not None and back.paper.paper_mm == [297.0, 420.0]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"schema": 99}, "schema 99"),
        ({"schema": SCHEMA, "lens": {}}, "unknown key 'lens'"),
        ({"schema": SCHEMA, "paper": {"paper_mm": [1, 2], "colour": 1}}, "unknown key 'colour'"),
        ({"schema": SCHEMA, "camera": {"rms": 1}}, "missing key"),
        ({"schema": SCHEMA, "paper": {"paper_mm": [1, 2, 3]}}, "paper.paper_mm must be a list of 2"),
        ({"schema": SCHEMA, "tablet": {"rotation": 33}}, "rotation"),
        ([1, 2], "JSON object"),
    ],
)
def test_invalid_profiles_name_the_problem(data: object, words: str) -> None:
    with pytest.raises(UserError, match=words):
        parse_profile(data)


def test_unreadable_files_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        load_profile(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(UserError, match="not valid JSON"):
        load_profile(bad)


def test_a_failed_write_leaves_the_old_profile_whole(tmp_path: Path) -> None:
    path = tmp_path / "venue.json"
    save_profile(path, Profile().replace(camera=CAMERA))
    before = path.read_bytes()
    unserialisable = Profile().replace(paper=PaperSection([210.0, object()]))  # type: ignore[list-item]
    with pytest.raises(TypeError):
        save_profile(path, unserialisable)
    assert path.read_bytes() == before
    blocked = tmp_path / "file"
    blocked.write_text("x")
    with pytest.raises(UserError, match="cannot write calibration profile"):
        save_profile(blocked / "venue.json", Profile())
