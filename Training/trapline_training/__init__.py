"""The Python side of trapline: model conversion, reference outputs for the Swift engine, ONNX export."""

__version__ = "0.1.0"
