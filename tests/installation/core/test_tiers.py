import pytest

from installation.core.tiers import TIERS, first_choice, keep


def test_auto_picks_the_gpu_tier_only_with_a_gpu_provider_and_file() -> None:
    c = first_choice("auto", "cpu.onnx", "gpu.onnx", gpu_file=True, gpu_provider=True)
    assert (c.tier, c.path) == ("gpu", "gpu.onnx")
    assert first_choice("auto", "cpu.onnx", "gpu.onnx", gpu_file=True, gpu_provider=False).tier == "cpu"
    assert first_choice("auto", "cpu.onnx", "gpu.onnx", gpu_file=False, gpu_provider=True).tier == "cpu"
    c = first_choice("auto", "cpu.onnx", "", gpu_file=False, gpu_provider=True)
    assert c.tier == "cpu" and "empty" in c.reason


def test_forced_tiers_and_the_provider_really_got() -> None:
    assert first_choice("cpu", "c", "g", True, True).path == "c"
    g = first_choice("gpu", "c", "g", True, False)
    assert g.path == "g" and "forced" in g.reason
    auto = first_choice("auto", "c", "g", True, True)
    # a GPU tier that fell back to the CPU provider is swapped for the CPU tier, unless it was forced
    assert not keep(auto, "CPUExecutionProvider", forced=False)
    assert keep(auto, "CUDAExecutionProvider", forced=False)
    assert keep(auto, "TensorrtExecutionProvider", forced=False)
    assert keep(g, "CPUExecutionProvider", forced=True)
    assert keep(first_choice("cpu", "c", "g", True, True), "CPUExecutionProvider", forced=True)
    with pytest.raises(ValueError):
        first_choice("fast", "c", "g", True, True)
    assert TIERS == ("auto", "cpu", "gpu")
