from datetime import datetime

from installation.core.archive_index import (
    config_hash,
    index_line,
    is_work_id,
    parse_index,
    safe_file_name,
    safe_kind,
    work_id,
)


def test_safe_names_stay_in_their_folder() -> None:
    assert safe_file_name("ai.png") == "ai.png"
    for evil in ("../../x", "/etc/passwd", "..", "a\\..\\b", ".env", "x/../../y", "\x00bad"):
        name = safe_file_name(evil)
        assert name and "/" not in name and "\\" not in name and ".." not in name and not name.startswith(".")
    assert len(safe_file_name("a" * 500)) == 64
    assert safe_kind("../Portrait Mode!") == "portrait-mode" and safe_kind("../..") == "work"


def test_work_ids_are_sortable_and_checked() -> None:
    wid = work_id("drawing", datetime(2026, 11, 23, 10, 0, 1, 5), 7)
    assert wid == "20261123-100001-000005-drawing-7" and is_work_id(wid)
    for bad in ("../" + wid, wid + "/..", "", "x", wid.replace("drawing", "Drawing")):
        assert not is_work_id(bad)


def test_index_tolerates_torn_and_foreign_lines() -> None:
    a = {"id": "20261123-100001-000005-drawing-1", "n": 1}
    b = {"id": "20261123-100001-000006-drawing-2", "n": 2}
    data = index_line(a) + b"garbage\n" + b'{"id": "../x"}\n' + index_line(b)[:10]
    assert parse_index(data) == [a]
    assert parse_index(index_line(a) + index_line({**a, "n": 3})) == [{**a, "n": 3}]


def test_config_hash_ignores_key_order() -> None:
    assert config_hash({"a": 1, "b": [1, 2]}) == config_hash({"b": [1, 2], "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2})
