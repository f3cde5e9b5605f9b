"""Talking to a Triton server: the KServe v2 protocol over HTTP (standard library) or gRPC (tritonclient).

HTTP uses Triton's binary tensor extension: one POST whose body is a small JSON header followed by the raw
uint8 bytes (`Inference-Header-Content-Length` says where the JSON ends), and the answer comes back the same
way, so a 256² sketch is 64 KiB up and its RGB answer 192 KiB down, nothing base64'd or floated. One
keep-alive connection per station; any failure closes it and raises TransportError.
gRPC needs `tritonclient[grpc]` in the show's environment (its protobuf < 7 pin conflicts with onnx in the
main venv, so it is not installed there; the optional .venv-triton has it).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
from typing import Any, Protocol

import numpy as np

from installation.core.errors import UserError

TRITON_DTYPES = {np.dtype(np.uint8): "UINT8", np.dtype(np.float32): "FP32", np.dtype(np.int32): "INT32"}
NP_DTYPES = {v: k for k, v in TRITON_DTYPES.items()}


class TransportError(Exception):
    """The server did not answer (gone, refused, timed out) or answered with an error."""


class Transport(Protocol):
    def infer(self, model: str, name: str, x: np.ndarray, out: str) -> np.ndarray: ...

    def ready(self, model: str) -> bool: ...

    def close(self) -> None: ...


class HttpTransport:
    def __init__(self, host: str, port: int, timeout_s: float) -> None:
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self._conn: http.client.HTTPConnection | None = None

    def _request(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, Any, bytes]:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)
        try:
            self._conn.request(method, path, body=body, headers=headers)
            resp = self._conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException) as e:  # refused, reset, timed out, half a reply
            self.close()
            raise TransportError(f"{type(e).__name__}: {e}") from e
        return resp.status, resp.headers, data

    def infer(self, model: str, name: str, x: np.ndarray, out: str) -> np.ndarray:
        x = np.ascontiguousarray(x)
        header = {
            "inputs": [
                {
                    "name": name,
                    "shape": list(x.shape),
                    "datatype": TRITON_DTYPES[x.dtype],
                    "parameters": {"binary_data_size": x.nbytes},
                }
            ],
            "outputs": [{"name": out, "parameters": {"binary_data": True}}],
        }
        head = json.dumps(header, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/octet-stream", "Inference-Header-Content-Length": str(len(head))}
        status, resp_headers, data = self._request("POST", f"/v2/models/{model}/infer", head + x.tobytes(), headers)
        split = int(resp_headers.get("Inference-Header-Content-Length") or len(data))
        try:
            reply = json.loads(data[:split])
        except ValueError as e:
            raise TransportError(f"HTTP {status}: not a KServe v2 reply") from e
        if status != 200:
            raise TransportError(f"HTTP {status}: {str(reply.get('error', reply))[:200]}")
        (o,) = reply["outputs"]
        arr = np.frombuffer(data[split:], dtype=NP_DTYPES[o["datatype"]])
        return arr.reshape(o["shape"])

    def ready(self, model: str) -> bool:
        try:
            status, _, _ = self._request("GET", f"/v2/models/{model}/ready", None, {})
        except TransportError:
            return False
        return status == 200

    def stats(self, model: str) -> dict[str, Any]:
        """The server's statistics extension for one model (batch sizes, counts); {} when it cannot say."""
        try:
            status, _, data = self._request("GET", f"/v2/models/{model}/stats", None, {})
            return dict(json.loads(data)) if status == 200 else {}
        except (TransportError, ValueError):
            return {}

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class GrpcTransport:
    def __init__(self, host: str, port: int, timeout_s: float) -> None:
        try:
            import tritonclient.grpc as grpcclient
        except ImportError as e:
            raise UserError(
                'model.protocol is "grpc" but tritonclient[grpc] is not installed in this environment: '
                'set model.protocol = "http" (no extra package), or run the station from .venv-triton'
            ) from e
        self._g = grpcclient
        self.url = f"{host}:{port}"
        self.timeout_s = timeout_s
        self._client: Any = None

    def _c(self) -> Any:  # noqa: ANN401
        if self._client is None:
            self._client = self._g.InferenceServerClient(self.url)
        return self._client

    def infer(self, model: str, name: str, x: np.ndarray, out: str) -> np.ndarray:
        g = self._g
        inp = g.InferInput(name, list(x.shape), TRITON_DTYPES[x.dtype])
        inp.set_data_from_numpy(np.ascontiguousarray(x))
        try:
            res = self._c().infer(model, [inp], outputs=[g.InferRequestedOutput(out)], client_timeout=self.timeout_s)
        except Exception as e:  # InferenceServerException for refused, deadline, unknown model
            self.close()
            raise TransportError(str(e)[:200]) from e
        return np.asarray(res.as_numpy(out))

    def ready(self, model: str) -> bool:
        try:
            return bool(self._c().is_model_ready(model, client_timeout=self.timeout_s))
        except Exception:  # the server is gone
            self.close()
            return False

    def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):  # closing a dead channel
                self._client.close()
            self._client = None


def make_transport(protocol: str, host: str, port: int, timeout_s: float) -> Transport:
    if protocol == "grpc":
        return GrpcTransport(host, port, timeout_s)
    return HttpTransport(host, port, timeout_s)


def wait_ready(transport: Transport, model: str, seconds: float) -> bool:
    """Poll until the model is ready or `seconds` pass (server start-up in tests and `run.py serve`)."""
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if transport.ready(model):
            return True
        time.sleep(0.2)
    return False


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
