from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import torch

from tests.conftest import random_net
from trapline_training import tolerance
from trapline_training.architecture import Architecture
from trapline_training.export_onnx import export


def test_onnx_export_matches_pytorch_at_any_batch_size(arch: Architecture, tmp_path: Path) -> None:
    model, path = random_net(arch, seed=6), tmp_path / "model.onnx"
    export(model, path)
    graph = onnx.load(str(path)).graph
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert [d.dim_value for d in graph.input[0].type.tensor_type.shape.dim[1:]] == [3, 224, 224]
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    x = torch.rand(3, 3, 224, 224, generator=torch.Generator().manual_seed(7)) * 2 - 1
    (theirs,) = session.run(["logits"], {"input": x.numpy()})
    with torch.inference_mode():
        ours = model(x, arch.full_levels(0)).numpy()
    # onnxruntime's kernels round differently from PyTorch's: the float32 tolerance derived in tolerance.py.
    allowed = tolerance.float32_tolerance(tolerance.path_fan_in(arch, arch.unit_count), float(np.abs(ours).max()))
    assert np.abs(ours - theirs).max() <= allowed
