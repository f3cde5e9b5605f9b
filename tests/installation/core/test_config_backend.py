"""The [model] backend keys: choices, ranges, addresses and unknown keys are one-line errors."""

from __future__ import annotations

import pytest

from installation.core.config import load_config
from installation.core.errors import UserError


def test_defaults_are_local_with_a_triton_address() -> None:
    m = load_config().model
    assert m.backend == "local" and m.protocol == "http" and m.url == "127.0.0.1:8000"
    assert m.triton_model == "pix2pix_default_u8" and m.timeout_s > 0 and m.retry_s > 0


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ('model.backend="remote"', "model.backend"),
        ('model.protocol="udp"', "model.protocol"),
        ('model.url="nohost"', "model.url"),
        ("model.timeout_s=0", "model.timeout_s"),
        ("model.retry_s=1000", "model.retry_s"),
        ('model.triton_model="a b"', "model.triton_model"),
        ('model.triton_url="x"', "unknown config key 'model.triton_url'"),
    ],
)
def test_bad_backend_settings_name_the_key(override: str, needle: str) -> None:
    with pytest.raises(UserError, match=needle.replace(".", r"\.")):
        load_config(None, [override])


def test_triton_backend_loads() -> None:
    m = load_config(None, ['model.backend="triton"', 'model.url="10.0.0.5:8001"', 'model.protocol="grpc"']).model
    assert (m.backend, m.url, m.protocol) == ("triton", "10.0.0.5:8001", "grpc")
