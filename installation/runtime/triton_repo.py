"""`run.py export --triton-repo DIR`: a Triton model repository from the shipped (or given) ONNX models.

For each pix2pix file: NAME (the exported graph, float32 [B, 1, S, S] in [-1, 1] → [B, 3, S, S]) and NAME_u8,
the compact form the stations send: uint8 sketch [B, S, S] in, uint8 RGB [B, S, S, 3] out, with the show's own
normalisation and rounding inside the graph, so a request is S² bytes, not 4·S², and the answer 3·S².
Both get a free batch dimension (the shipped file is exported for batch 1) so Triton can batch dynamically.
The two CLIP encoders go in as they are (their batch is already free). Each model gets a config.pbtxt
(installation/core/pbtxt.py): the onnxruntime backend, dynamic batching with a small queue delay, an instance
group, and on a GPU host TensorRT with fp16. The official server loads the folder unchanged:
`tritonserver --model-repository DIR`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from installation.core.errors import UserError
from installation.core.pbtxt import ModelConfig, Tensor, render

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "installation" / "assets" / "models"
CLIP = {"clip_image": "float32", "clip_text": "int32"}  # the encoders' input types


def free_batch(proto: Any) -> Any:  # noqa: ANN401 - onnx.ModelProto
    """The first dimension of every graph input and output made symbolic ("batch"); stale shapes dropped."""
    for value in list(proto.graph.input) + list(proto.graph.output):
        dims = value.type.tensor_type.shape.dim
        if dims:
            dims[0].Clear()
            dims[0].dim_param = "batch"
    del proto.graph.value_info[:]
    return proto


def compact(proto: Any) -> Any:  # noqa: ANN401 - onnx.ModelProto (float pix2pix, free batch)
    """uint8 [B, S, S] → the float graph → uint8 [B, S, S, 3]: the show's own arithmetic (inference.Model.run)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    g = proto.graph
    (inp,), (out,) = g.input, g.output
    size = inp.type.tensor_type.shape.dim[2].dim_value
    old_in, old_out = inp.name, out.name
    for node in g.node:  # the float graph now ends in "<out>_f"
        node.output[:] = [f"{old_out}_f" if o == old_out else o for o in node.output]
    consts = {"c_half": 127.5, "c_one": 1.0, "c_lo": 0.0, "c_hi": 255.0}
    g.initializer.extend(numpy_helper.from_array(np.array(v, np.float32), k) for k, v in consts.items())
    g.initializer.append(numpy_helper.from_array(np.array([1], np.int64), "c_axis"))
    pre = [
        helper.make_node("Cast", [old_in + "_u8"], ["pre_f"], to=TensorProto.FLOAT),
        helper.make_node("Div", ["pre_f", "c_half"], ["pre_d"]),
        helper.make_node("Sub", ["pre_d", "c_one"], ["pre_s"]),
        helper.make_node("Unsqueeze", ["pre_s", "c_axis"], [old_in]),
    ]
    post = [
        helper.make_node("Transpose", [f"{old_out}_f"], ["post_t"], perm=[0, 2, 3, 1]),
        helper.make_node("Add", ["post_t", "c_one"], ["post_a"]),
        helper.make_node("Mul", ["post_a", "c_half"], ["post_m"]),
        helper.make_node("Round", ["post_m"], ["post_r"]),
        helper.make_node("Clip", ["post_r", "c_lo", "c_hi"], ["post_c"]),
        helper.make_node("Cast", ["post_c"], [old_out + "_u8"], to=TensorProto.UINT8),
    ]
    nodes = pre + list(g.node) + post
    del g.node[:]
    g.node.extend(nodes)
    del g.input[:], g.output[:]
    g.input.append(helper.make_tensor_value_info(old_in + "_u8", TensorProto.UINT8, ["batch", size, size]))
    g.output.append(helper.make_tensor_value_info(old_out + "_u8", TensorProto.UINT8, ["batch", size, size, 3]))
    onnx.checker.check_model(proto)
    return proto


def write_repo(out: Path, models: Path, device: str, max_batch: int, queue_delay_us: int, instances: int) -> list[Path]:
    """Write the repository; returns the config.pbtxt files. Existing model folders of the same names are replaced."""
    import onnx

    if not models.is_dir():
        raise UserError(f"model folder {models} does not exist: give --models DIR with the exported .onnx files")
    # the fp32 exports only: FILE.fp16 / FILE.int8 variants are the local runtime's; the server sets its own precision
    pix2pix = sorted(p for p in models.glob("pix2pix*.onnx") if "." not in p.stem)
    if not pix2pix:
        raise UserError(f"no pix2pix*.onnx in {models}: export one (`run.py export --checkpoint ...`) first")
    written: list[Path] = []
    preferred = tuple(b for b in (2, 4, 8) if b <= max_batch)
    for path in pix2pix:
        proto = free_batch(onnx.load(str(path)))
        size = proto.graph.input[0].type.tensor_type.shape.dim[2].dim_value
        c_in = proto.graph.input[0].type.tensor_type.shape.dim[1].dim_value
        c_out = proto.graph.output[0].type.tensor_type.shape.dim[1].dim_value
        i_name, o_name = proto.graph.input[0].name, proto.graph.output[0].name
        base = path.stem
        cfg = ModelConfig(
            base,
            (Tensor(i_name, "float32", (c_in, size, size)),),
            (Tensor(o_name, "float32", (c_out, size, size)),),
            max_batch, queue_delay_us, preferred, instances, device,
        )  # fmt: skip
        written.append(_write(out, cfg, proto))
        small = compact(proto)
        cfg_u8 = ModelConfig(
            base + "_u8",
            (Tensor(i_name + "_u8", "uint8", (size, size)),),
            (Tensor(o_name + "_u8", "uint8", (size, size, c_out)),),
            max_batch, queue_delay_us, preferred, instances, device,
            extra={"source": path.name, "normalisation": "uint8 sketch (255 paper, 0 ink) in, uint8 RGB out"},
        )  # fmt: skip
        written.append(_write(out, cfg_u8, small))
    for stem, dtype in CLIP.items():
        path = models / f"{stem}.onnx"
        if not path.is_file():
            log.warning("no %s in %s: the repository has no %s model", path.name, models, stem)
            continue
        proto = onnx.load(str(path))
        dims_in = tuple(d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim[1:])
        meta = {p.key: p.value for p in proto.metadata_props}
        dims_out = tuple(
            d.dim_value or int(meta.get("embed_dim", -1)) for d in proto.graph.output[0].type.tensor_type.shape.dim[1:]
        )  # an exporter may leave the embedding width symbolic: the metadata has it (-1: variable, for Triton)
        cfg = ModelConfig(
            stem,
            (Tensor(proto.graph.input[0].name, dtype, dims_in),),
            (Tensor(proto.graph.output[0].name, "float32", dims_out),),
            max_batch, queue_delay_us, preferred, instances, device,
        )  # fmt: skip
        written.append(_write(out, cfg, proto))
    log.info("Triton repository %s: %s", out, ", ".join(p.parent.name for p in written))
    return written


def _write(out: Path, cfg: ModelConfig, proto: Any) -> Path:  # noqa: ANN401
    import onnx

    folder = out / cfg.name
    try:
        (folder / "1").mkdir(parents=True, exist_ok=True)
        onnx.save(proto, str(folder / "1" / "model.onnx"))
        (folder / "config.pbtxt").write_text(render(cfg), encoding="utf-8")
    except OSError as e:
        raise UserError(
            f"cannot write the Triton repository {out} ({e.strerror}): choose a writable --triton-repo"
        ) from e
    return folder / "config.pbtxt"
