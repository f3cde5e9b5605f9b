"""The inference server side: PyTriton binding the Triton repository's ONNX files (runs in .venv-triton)."""
