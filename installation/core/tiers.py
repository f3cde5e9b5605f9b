"""Which model tier the show runs: the GPU tier where inference really runs on a GPU, the CPU tier elsewhere.

Pure decisions (no onnxruntime here): the runtime asks `first_choice` which file to open, opens it, and then
asks `keep` whether the provider it really got fits that tier; if not, it opens the other file.
"""

from __future__ import annotations

from dataclasses import dataclass

TIERS = ("auto", "cpu", "gpu")
GPU_PROVIDER_NAMES = ("TensorrtExecutionProvider", "CUDAExecutionProvider")


@dataclass(frozen=True)
class TierChoice:
    tier: str  # "cpu" or "gpu"
    path: str
    reason: str


def first_choice(tier: str, cpu_path: str, gpu_path: str, gpu_file: bool, gpu_provider: bool) -> TierChoice:
    """The file to open first. gpu_file: the GPU tier exists; gpu_provider: a GPU provider is available."""
    if tier not in TIERS:
        raise ValueError(f"model.tier must be one of {TIERS}, got {tier!r}")
    if tier == "cpu":
        return TierChoice("cpu", cpu_path, "forced by model.tier = cpu")
    if tier == "gpu":
        return TierChoice("gpu", gpu_path, "forced by model.tier = gpu")
    if not gpu_path:
        return TierChoice("cpu", cpu_path, "no GPU tier configured (model.gpu_path is empty)")
    if not gpu_file:
        return TierChoice("cpu", cpu_path, f"GPU tier {gpu_path} not found")
    if not gpu_provider:
        return TierChoice("cpu", cpu_path, "no GPU execution provider available")
    return TierChoice("gpu", gpu_path, "a GPU execution provider is available")


def keep(choice: TierChoice, real_provider: str, forced: bool) -> bool:
    """Whether the opened session fits its tier: a GPU tier that landed on the CPU is swapped unless forced."""
    if choice.tier == "gpu" and real_provider not in GPU_PROVIDER_NAMES:
        return forced
    return True
