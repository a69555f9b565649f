"""Writes a tiny but complete trapline model file (a stem, two blocks, a head; two prune levels) to the model
fuzz target's corpus. The bundled model's header alone refers to tensor data it does not carry, so without a
whole small model the fuzzer never gets past the tensor table into the metadata checks and the weight folding.

    python3 Benchmarks/faults/fuzz_model_seed.py    (prints the file it wrote)
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

LEVELS = 2
UNITS = [
    {"kind": "stem", "inChannels": 3, "outChannels": 4, "kernel": 3, "stride": 2},
    {
        "kind": "mbconv",
        "inChannels": 4,
        "outChannels": 4,
        "expandedChannels": 4,
        "expand": False,
        "kernel": 3,
        "stride": 1,
    },
    {
        "kind": "mbconv",
        "inChannels": 4,
        "outChannels": 6,
        "expandedChannels": 8,
        "expand": True,
        "kernel": 5,
        "stride": 2,
    },
    {"kind": "head", "inChannels": 6, "features": 8, "classes": 3},
]
METADATA = {
    "format": "trapline-model",
    "formatVersion": 1,
    "name": "fuzz-seed",
    "architecture": "efficientnet-lite",
    "activation": "relu6",
    "padding": "tf-same",
    "batchNormEpsilon": 0.001,
    "input": {
        "width": 8,
        "height": 8,
        "channels": 3,
        "mean": [127, 127, 127],
        "scale": [128, 128, 128],
        "crop": "center",
    },
    "units": UNITS,
    "pruneLevels": [0.0, 0.5],
    "keptChannels": [[4, 4], [4, 4], [8, 4], [8, 4]],
    "slicePlans": {"1": [0, 4], "2": [0, 2, 4]},
    "classes": {"names": ["a", "b", "c"], "animalRanges": [[1, 2]]},
}


def tensor_shapes() -> dict[str, list[int]]:
    """The tensors the loader demands for UNITS, with their shapes (Sources/Inference/ModelFile/Model+Units.swift)."""
    shapes: dict[str, list[int]] = {}

    def batch_norm(prefix: str, channels: int) -> None:
        for level in range(LEVELS):
            for part in ("weight", "bias", "mean", "var"):
                shapes[f"{prefix}.level{level}.{part}"] = [channels]

    shapes["stem.conv.weight"] = [4, 3, 3, 3]
    batch_norm("stem.bn", 4)
    shapes["block0.depthwise.weight"] = [4, 1, 3, 3]
    shapes["block0.project.weight"] = [4, 4, 1, 1]
    batch_norm("block0.bn1", 4)
    batch_norm("block0.bn2", 4)
    shapes["block1.expand.weight"] = [8, 4, 1, 1]
    shapes["block1.depthwise.weight"] = [8, 1, 5, 5]
    shapes["block1.project.weight"] = [6, 8, 1, 1]
    batch_norm("block1.bn0", 8)
    batch_norm("block1.bn1", 8)
    batch_norm("block1.bn2", 6)
    shapes["head.conv.weight"] = [8, 6, 1, 1]
    shapes["head.fc.weight"] = [3, 8]
    shapes["head.fc.bias"] = [3]
    batch_norm("head.bn", 8)
    return shapes


def model_file() -> bytes:
    """The safetensors bytes: every value float16 0.5 (batch-norm variances must not be negative)."""
    header: dict[str, object] = {"__metadata__": {"trapline": json.dumps(METADATA, separators=(",", ":"))}}
    data = b""
    for name, shape in tensor_shapes().items():
        count = 1
        for dimension in shape:
            count *= dimension
        payload = struct.pack("<H", 0x3800) * count
        header[name] = {"dtype": "F16", "shape": shape, "data_offsets": [len(data), len(data) + len(payload)]}
        data += payload
    text = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(text)) + text + data


def main() -> None:
    content = model_file()
    corpus = Path(__file__).resolve().parents[2] / "Fuzz" / "corpus" / "model"
    path = corpus / hashlib.sha1(content).hexdigest()
    path.write_bytes(content)
    print(path)


if __name__ == "__main__":
    main()
