"""onnxruntime on the same weights (exported by trapline_training.export_onnx), timed like inference-bench.

Usage: inference_ort.py MODEL.onnx ROUNDS THREADS BATCH...   prints JSON lines: median ms per batch
"""

import json
import statistics
import sys
import time

import numpy as np
import onnxruntime as ort


def main() -> None:
    path, rounds, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    for batch in (int(b) for b in sys.argv[4:]):
        data = (np.arange(batch * 3 * 224 * 224, dtype=np.float32) % 251 / 125 - 1).reshape(batch, 3, 224, 224)
        session.run(None, {name: data})
        samples = []
        for _ in range(rounds):
            start = time.perf_counter()
            session.run(None, {name: data})
            samples.append((time.perf_counter() - start) * 1000)
        print(json.dumps({"runtime": "onnxruntime", "threads": threads, "batch": batch, "level": 0.0,
                          "ms": statistics.median(samples)}))


if __name__ == "__main__":
    main()
