"""Writes a tiny but complete trapline model file (a stem, two blocks, a head; two prune levels) to the model
fuzz target's corpus. The bundled model's header alone refers to tensor data it does not carry, so without a
whole small model the fuzzer never gets past the tensor table into the metadata checks and the weight folding.

    python3 Benchmarks/faults/fuzz_model_seed.py             (prints the file it wrote)
    python3 Benchmarks/faults/fuzz_model_seed.py --format 2  (format 2: re-fitted levels, a skippable block)
"""

from __future__ import annotations

import argparse
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


def metadata(version: int) -> dict[str, object]:
    """METADATA, or its format 2 form: block 0 (unit 1, a residual block) skippable, one slice option."""
    if version == 1:
        return METADATA
    return {
        **METADATA,
        "formatVersion": 2,
        "skippableUnits": [1],
        "sliceOptions": [{"name": "skip", "skip": True, "level": 1}],
    }


def tensor_shapes(version: int = 1) -> dict[str, list[int]]:
    """The tensors the loader demands for UNITS, with their shapes (Sources/Inference/ModelFile/Model+Units.swift):
    format 2 has one set of batch norms and per-level project and fc layers."""
    shapes: dict[str, list[int]] = {}

    def batch_norm(prefix: str, channels: int) -> None:
        for level in range(LEVELS if version == 1 else 1):
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
    if version == 2:
        shapes["block1.project.level1.weight"] = [6, 4, 1, 1]
        shapes["block1.project.level1.bias"] = [6]
        shapes["head.fc.level1.weight"] = [3, 4]
        shapes["head.fc.level1.bias"] = [3]
    return shapes


def model_file(version: int = 1) -> bytes:
    """The safetensors bytes: every value float16 0.5 (batch-norm variances must not be negative)."""
    header: dict[str, object] = {"__metadata__": {"trapline": json.dumps(metadata(version), separators=(",", ":"))}}
    data = b""
    for name, shape in tensor_shapes(version).items():
        count = 1
        for dimension in shape:
            count *= dimension
        payload = struct.pack("<H", 0x3800) * count
        header[name] = {"dtype": "F16", "shape": shape, "data_offsets": [len(data), len(data) + len(payload)]}
        data += payload
    text = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(text)) + text + data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--format", type=int, choices=(1, 2), default=1, help="model file format version (1)")
    content = model_file(parser.parse_args().format)
    corpus = Path(__file__).resolve().parents[2] / "Fuzz" / "corpus" / "model"
    path = corpus / hashlib.sha1(content).hexdigest()
    path.write_bytes(content)
    print(path)


if __name__ == "__main__":
    main()
