"""`/model NAME` in the running show: the new model is built beside the old one, then swapped in.

NAME is a tier (`cpu`: `model.path`, `gpu`: `model.gpu_path`) or the stem of an .onnx file in the folder of
`model.path` (the configured model folder, e.g. `pix2pix_default.fp16`). The session is created and warmed up on
its own thread while the old one keeps answering; the main loop takes the finished model with `take()` and hands
it to the inference worker, so the display never waits for a session to be built.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from installation.core.errors import UserError
from installation.core.slots import LatestSlot

log = logging.getLogger(__name__)


class ModelSwitcher:
    def __init__(self, open_path: Callable[[Path], Any], folder: Path, tiers: dict[str, Path]) -> None:
        self.open_path = open_path  # path → a warmed-up runtime Model (raises UserError on a bad file)
        self.folder = folder
        self.tiers = tiers
        self.ready: LatestSlot[Any] = LatestSlot()
        self.error = ""
        self.building: str | None = None
        self._thread: threading.Thread | None = None

    def choices(self) -> list[str]:
        files = sorted(p.stem for p in self.folder.glob("*.onnx")) if self.folder.is_dir() else []
        return [t for t, p in self.tiers.items() if p.is_file()] + files

    def resolve(self, name: str) -> Path:
        if name in self.tiers and self.tiers[name].is_file():
            return self.tiers[name]
        stem = name.removesuffix(".onnx")
        if "/" not in stem and (self.folder / f"{stem}.onnx").is_file():
            return self.folder / f"{stem}.onnx"
        raise UserError(f"/model {name}: no such model in {self.folder}; choose one of {', '.join(self.choices())}")

    def request(self, name: str) -> None:
        """Start building NAME (the newest request wins); a bad name or file is reported in `error`."""
        try:
            path = self.resolve(name)
        except UserError as e:
            self.error = str(e)
            return
        self.building = name
        self._thread = threading.Thread(target=self._build, args=(name, path), name="model-switch", daemon=True)
        self._thread.start()

    def _build(self, name: str, path: Path) -> None:
        try:
            model = self.open_path(path)
        except Exception as e:  # a bad file: the running model stays, the reason goes to /state/error
            self.error = f"/model {name}: {e}"
            log.error("%s", self.error)
            return
        finally:
            if self.building == name:
                self.building = None
        self.error = ""
        self.ready.put(model)
        log.info("model %s (%s) built beside the running one: swapped in at the next frame", name, path.name)

    def take(self) -> Any | None:
        return self.ready.take(timeout=0)

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
