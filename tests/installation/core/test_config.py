from pathlib import Path

import pytest

from installation.core.config import load_config
from installation.core.errors import UserError


def test_defaults_load() -> None:
    cfg = load_config()
    assert cfg.display.layout == "side" and cfg.model.input_size == 256
    assert cfg.resolve(cfg.model.path).is_absolute()


def test_layers_venue_then_overrides(tmp_path: Path) -> None:
    venue = tmp_path / "venue.toml"
    venue.write_text('[display]\nlayout = "ai"\nfps = 50\n[canvas]\nsize = 800\n')
    cfg = load_config(venue, ["display.fps=30", "display.crossfade_s=1"])
    assert cfg.display.layout == "ai"  # venue
    assert cfg.display.fps == 30  # override beats venue
    assert cfg.canvas.size == 800
    assert cfg.display.crossfade_s == 1.0 and isinstance(cfg.display.crossfade_s, float)


@pytest.mark.parametrize(
    "override, fragment",
    [
        ("display.colour=1", "unknown config key 'display.colour'"),
        ("archive.folder=x", "unknown config key 'archive.folder'"),
        ("supervision.max_backoff_s=0", "'supervision.max_backoff_s' must be positive"),
        ("logging.level=LOUD", "'logging.level' is 'LOUD'"),
        ("osc.rate_limit_hz=-1", "rate_limit_hz must be zero"),
        ("nosuch.key=1", "unknown config key 'nosuch'"),
        ("display.fps=fast", "'display.fps' must be int"),
        ("display.layout=diagonal", "choose one of side, ai, overlay"),
        ("model.providers=['gpu']", "model.providers"),
        ("display.fullscreen=3", "must be bool"),
        ("canvas.size=-5", "must be positive"),
        ("justtext", "section.key=value"),
    ],
)
def test_bad_values_name_the_key(override: str, fragment: str) -> None:
    with pytest.raises(UserError, match=fragment):
        load_config(None, [override])


def test_bad_venue_file(tmp_path: Path) -> None:
    bad = tmp_path / "v.toml"
    bad.write_text("[display\n")
    with pytest.raises(UserError, match="not valid TOML"):
        load_config(bad)
    with pytest.raises(UserError, match="does not exist"):
        load_config(tmp_path / "missing.toml")


def test_model_tier_is_checked_at_load() -> None:
    from installation.core.config import load_config

    assert load_config(None, []).model.tier == "auto"
    with pytest.raises(UserError, match="model.tier"):
        load_config(None, ['model.tier="fast"'])
    with pytest.raises(UserError, match="gpu_path"):
        load_config(None, ['model.tier="gpu"'])
    assert load_config(None, ['model.tier="gpu"', 'model.gpu_path="g.onnx"']).model.tier == "gpu"
