"""The Triton backend with no server: a refused port is a loud fall-back to the local model (no PyTriton needed)."""

from __future__ import annotations

import numpy as np
import pytest

from installation.core.config import load_config
from installation.runtime.inference import RuntimeSettings, open_model
from installation.runtime.remote_model import open_triton, state_fields
from installation.runtime.triton_client import free_tcp_port
from installation.runtime.triton_repo import SHIPPED


def _sketch() -> np.ndarray:
    x = np.full((256, 256), 255, np.uint8)
    x[50:200, 120:126] = 0
    return x


def test_no_server_at_start_is_a_loud_fall_back(caplog: pytest.LogCaptureFixture) -> None:
    """No PyTriton needed: a refused port (nothing listens) → local answers, one WARNING naming the server."""
    local = open_model(SHIPPED / "pix2pix_default.onnx", None, RuntimeSettings(providers=("cpu",), warmup_runs=1))
    url = f"127.0.0.1:{free_tcp_port()}"  # bound and released: nothing listens there now
    cfg = load_config(None, ['model.backend="triton"', f'model.url="{url}"', "model.retry_s=60"]).model
    m = open_triton(cfg, local)
    assert not m.remote and url in caplog.text and "local model" in caplog.text
    assert np.array_equal(m.run(_sketch()), local.run(_sketch())) and m.local_answers == 1
    assert "fall-back" in m.provider
    assert state_fields(m) == {"model/backend": "local-fallback", "model/round_trip_ms": 0.0}
    assert state_fields(local) == {"model/backend": "local", "model/round_trip_ms": 0.0}


def test_grpc_without_tritonclient_is_one_line() -> None:
    try:
        import tritonclient.grpc  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("tritonclient is installed here: the gRPC transport is available")
    from installation.core.errors import UserError
    from installation.runtime.triton_client import make_transport

    with pytest.raises(UserError, match="model.protocol"):
        make_transport("grpc", "127.0.0.1", 9, 1.0)
