"""Exports a trapline model file at level 0 to ONNX (NCHW input, dynamic batch) for benchmarks.

    python -m trapline_training.export_onnx --model Models/efficientnet-lite0.safetensors --out lite0.onnx

The export is checked with onnxruntime against PyTorch before the command reports success.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import modelfile
from .architecture import INPUT_SIZE
from .images import PHOTOS, load_photo, normalise
from .model import TraplineNet

OPSET = 17
PARITY_LIMIT = 1e-4


class FixedLevels(nn.Module):
    """A TraplineNet with its level vector fixed, so that it takes one tensor (what exporters want)."""

    def __init__(self, model: TraplineNet, level: int = 0) -> None:
        super().__init__()
        self.model = model
        self.levels = model.arch.full_levels(level)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits [N, classes] for NCHW input."""
        return self.model(x, self.levels)


def export(model: TraplineNet, out: Path, level: int = 0) -> None:
    """Writes `model` at `level` as ONNX with input `input` [batch, 3, 224, 224] and output `logits`."""
    example = torch.zeros(1, 3, INPUT_SIZE, INPUT_SIZE)
    # The TorchScript-based exporter: the dynamo one needs onnxscript, which trapline does not install. It
    # warns that padding sizes become constants: right, the spatial size is fixed; only the batch varies.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=torch.jit.TracerWarning)
        warnings.simplefilter("ignore", category=DeprecationWarning)
        torch.onnx.export(
            FixedLevels(model, level).eval(),
            (example,),
            str(out),
            dynamo=False,
            opset_version=OPSET,
            input_names=["input"],
            output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        )


def onnx_parity(model: TraplineNet, path: Path, level: int = 0) -> float:
    """Largest |logit difference| between onnxruntime and PyTorch on the photos plus one random image."""
    import onnxruntime

    photos = normalise(np.stack([load_photo(p.path) for p in PHOTOS]))
    x = torch.cat([photos, torch.rand(1, *photos.shape[1:], generator=torch.Generator().manual_seed(0)) * 2 - 1])
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (theirs,) = session.run(["logits"], {"input": x.numpy()})
    with torch.inference_mode():
        ours = model(x, model.arch.full_levels(level)).numpy()
    return float(np.abs(ours - theirs).max())


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m trapline_training.export_onnx", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--model", type=Path, required=True, help="trapline model file (.safetensors)")
    parser.add_argument("--out", type=Path, required=True, help="ONNX file to write")
    parser.add_argument("--level", type=int, default=0, help="prune level index of every unit (0)")
    args = parser.parse_args(argv)
    model, _ = modelfile.read(args.model)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    export(model, args.out, args.level)
    diff = onnx_parity(model, args.out, args.level)
    print(f"onnxruntime vs PyTorch (fp32, level {args.level}, batch 4): max |logit diff| {diff:.3e}")
    if not diff < PARITY_LIMIT:
        print(f"error: ONNX parity {diff:.3e} is not below {PARITY_LIMIT}", file=sys.stderr)
        return 1
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
