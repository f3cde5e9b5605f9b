"""Live CLIP scoring with ONNX Runtime: cosine similarity of an image with text prompts, torch-free.

The two encoders exported by `run.py export --kind clip` (installation/assets/models/clip_image.onnx and
clip_text.onnx) must carry the same pair_id. Prompts are tokenised with CLIP's BPE (installation.core.clip_tokens)
and their embeddings cached (bounded), so a steady prompt costs one image encoding per score.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from pathlib import Path

import cv2
import numpy as np

from installation.core.clip_tokens import tokenize
from installation.core.errors import UserError
from installation.runtime.inference import RuntimeSettings, _create_session, provider_list, read_metadata

log = logging.getLogger(__name__)
ASSETS = Path(__file__).resolve().parents[1] / "assets" / "models"
IMAGE_FILE, TEXT_FILE = "clip_image.onnx", "clip_text.onnx"
CACHE = 256  # prompt embeddings kept
CPU_ONLY = RuntimeSettings(providers=("cpu",), intra_op_threads=1, warmup_runs=0)


class ClipScorer:
    """Both encoders open in ONNX Runtime; score(image, prompts) → cosine per prompt."""

    def __init__(self, folder: Path = ASSETS, settings: RuntimeSettings = CPU_ONLY, int8: str = "auto") -> None:
        import onnxruntime as ort

        folder = Path(folder)
        for name in (IMAGE_FILE, TEXT_FILE):
            if not (folder / name).is_file():
                raise UserError(
                    f"CLIP encoder {folder / name} is missing: restore it from the repository or write both with "
                    "`python run.py export --kind clip --checkpoint models/clip/trained/clip_small.pt "
                    f"--out {folder}`"
                )
        (img_meta, img_data), (txt_meta, txt_data) = (
            read_metadata(folder / IMAGE_FILE, "clip-image"),
            read_metadata(folder / TEXT_FILE, "clip-text"),
        )
        if (img_meta.get("kind"), txt_meta.get("kind")) != ("clip-image", "clip-text"):
            raise UserError(
                f"{folder} must hold a CLIP image encoder ({IMAGE_FILE}) and text encoder ({TEXT_FILE}): "
                "re-export them with `python run.py export --kind clip --checkpoint CKPT --out FOLDER`"
            )
        if img_meta.get("pair_id") != txt_meta.get("pair_id"):
            raise UserError(
                f"{folder / IMAGE_FILE} and {folder / TEXT_FILE} come from different CLIP checkpoints: export both "
                "again with `python run.py export --kind clip`"
            )
        self.name = img_meta.get("model_name", "clip")
        self.image_size = int(img_meta["input_size"])
        self.context_length = int(txt_meta["context_length"])
        self.embed_dim = int(img_meta["embed_dim"])
        self._image_sha256 = hashlib.sha256(img_data).hexdigest()
        self._image = _create_session(
            ort, img_data, folder / IMAGE_FILE, settings, provider_list(settings, img_meta, "", [])
        )
        self.precision = "fp32"
        self._maybe_int8(ort, folder, settings, int8)
        self._text = _create_session(
            ort, txt_data, folder / TEXT_FILE, settings, provider_list(settings, txt_meta, "", [])
        )
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()  # the cache may be shared by a scoring worker and a re-ranker

    def _maybe_int8(self, ort, folder: Path, settings: RuntimeSettings, mode: str) -> None:  # noqa: ANN001
        """clip_image.int8.onnx (run.py quantize) instead, where it wins here on speed and recorded quality."""
        from installation.core.precision import choose, quality_within_goals
        from installation.runtime.precision import int8_path

        path = int8_path(folder / IMAGE_FILE)
        session = meta = None
        if mode != "off" and path.is_file():
            try:
                meta, data = read_metadata(path, "clip-image")
                if meta.get("source_sha256") != self._image_sha256:
                    raise UserError("it was made from another clip_image.onnx: re-make it with `run.py quantize`")
                session = _create_session(ort, data, path, settings, ["CPUExecutionProvider"])
            except UserError as e:
                log.warning("CLIP int8 copy %s cannot be used (%s): fp32", path.name, e)
                meta = None
        fp32_ms = int8_ms = None
        if session is not None:
            x = np.ones((1, 3, self.image_size, self.image_size), np.float32)
            fp32_ms, int8_ms = _interleaved_ms([self._image, session], x)
        quality = quality_within_goals(meta) if meta is not None else None
        choice = choose(mode, session is not None, True, quality, fp32_ms, int8_ms)
        if choice.precision == "int8" and session is not None:
            self._image, self.precision = session, "int8"
        if session is not None:
            log.warning("CLIP image encoder precision: %s (%s)", choice.precision, choice.reason)

    def text_embeddings(self, prompts: list[str]) -> np.ndarray:
        """(P, D) normalised; cached per prompt."""
        with self._lock:
            missing = [p for p in dict.fromkeys(prompts) if p not in self._cache]
            if missing:
                ids = tokenize(missing, self.context_length)  # (M, L) int32
                for p, e in zip(missing, self._text.run(None, {"tokens": ids})[0], strict=True):
                    self._cache[p] = e
            for p in prompts:
                self._cache.move_to_end(p)
            out = np.stack([self._cache[p] for p in prompts])
            while len(self._cache) > CACHE:
                self._cache.popitem(last=False)
        return out

    def image_embeddings(self, images: np.ndarray) -> np.ndarray:
        """(B, H, W, 3) uint8 RGB (or one (H, W, 3)) → (B, D) normalised."""
        if images.ndim == 3:
            images = images[None]
        s = self.image_size
        x = np.stack(
            [cv2.resize(im, (s, s), interpolation=cv2.INTER_AREA) if im.shape[:2] != (s, s) else im for im in images]
        )
        x = x.transpose(0, 3, 1, 2).astype(np.float32) / 255.0  # (B, 3, S, S) in [0, 1]
        return self._image.run(None, {"images": x})[0]

    def score(self, image: np.ndarray, prompts: list[str]) -> np.ndarray:
        """(H, W, 3) uint8 RGB → (P,) cosine similarity with each prompt."""
        return self.image_embeddings(image)[0] @ self.text_embeddings(prompts).T

    def rank(self, images: np.ndarray, prompt: str) -> np.ndarray:
        """(B, H, W, 3) candidates → (B,) cosine with the prompt, for re-ranking."""
        return self.image_embeddings(images) @ self.text_embeddings([prompt])[0]


def _interleaved_ms(sessions: list, x: np.ndarray, calls: int = 8) -> list[float]:  # noqa: ANN001
    """Median ms per call of each image-encoder session, taking turns call by call."""
    import time
    from statistics import median

    times: list[list[float]] = [[] for _ in sessions]
    for s in sessions:
        s.run(None, {"images": x})
    for _ in range(calls):
        for k, s in enumerate(sessions):
            t0 = time.perf_counter()
            s.run(None, {"images": x})
            times[k].append((time.perf_counter() - t0) * 1000.0)
    return [round(median(t), 2) for t in times]
