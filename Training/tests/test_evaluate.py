from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import random_net
from tests.test_modelfile import metadata
from trapline_training import evaluate, modelfile
from trapline_training.architecture import Architecture
from trapline_training.slicing import levels_for_slices

PLAN = [0, 3, 8, 13, 18]


def test_evaluation_vectors_hold_uniform_single_slice_and_binary_mixes() -> None:
    vectors = evaluate.evaluation_vectors(4, 4, all_vectors=False)
    assert len(vectors) == len(set(vectors)) == 26
    assert (2, 2, 2, 2) in vectors and (0, 0, 1, 0) in vectors and (3, 0, 3, 3) in vectors
    assert len(evaluate.evaluation_vectors(4, 4, all_vectors=True)) == 256


@torch.inference_mode()
def test_running_vectors_with_shared_prefixes_equals_running_each(arch: Architecture) -> None:
    model = random_net(arch, seed=2)
    x = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0)) * 2 - 1
    vectors = [(0, 3, 1, 2), (0, 3, 1, 0), (2, 2, 2, 2), (0, 0, 0, 0)]
    seen = {}
    evaluate.run_vectors(model, x, PLAN, vectors, lambda v, logits: seen.setdefault(v, logits))
    assert set(seen) == set(vectors)
    for vector in vectors:
        torch.testing.assert_close(seen[vector], model(x, levels_for_slices(PLAN, vector)), atol=0, rtol=0)


def test_bootstrap_intervals_bracket_the_mean() -> None:
    rng = np.random.default_rng(1)
    is_animal = rng.random(200) < 0.7
    boot = evaluate.Bootstrap(200, is_animal, samples=300)
    outcome = {"agree": rng.random(200) < 0.9, "kl": rng.random(200), "animal": rng.random(200)}
    metrics = boot.metrics(outcome)
    for name in evaluate.METRICS:
        value, low, high = metrics[name]
        assert low <= value <= high and low >= 0 and high <= 1
    assert metrics["agreement"][2] - metrics["agreement"][1] > 0.02
    constant = boot.metrics({"agree": np.ones(200, bool), "kl": np.zeros(200), "animal": is_animal * 1.0})
    assert constant["agreement"] == [1.0, 1.0, 1.0] and constant["animalBlankAccuracy"] == [1.0, 1.0, 1.0]


def fake_report() -> dict:
    rng = np.random.default_rng(0)
    strategies = {}
    for name in evaluate.STRATEGIES:
        metrics = {}
        for vector in itertools.product(range(4), repeat=4):
            value = float(1 - 0.05 * sum(vector) * rng.random())
            metrics[vector] = {m: [value, value - 0.01, min(1.0, value + 0.01)] for m in evaluate.METRICS}
        strategies[name] = evaluate.summarise(metrics, 4, 4, 3)
    interval = [0.9, 0.88, 0.92]
    return {
        "dataset": "fake",
        "images": 10,
        "animalFrames": 7,
        "blankFrames": 3,
        "plan": PLAN,
        "pruneLevels": [0.0, 0.25, 0.5, 0.75],
        "bootstrap": 100,
        "original": {m: interval for m in evaluate.METRICS},
        "strategies": strategies,
    }


def test_summary_tables_plot_and_accuracy_metadata(tmp_path: Path, arch: Architecture) -> None:
    report = fake_report()
    robust = report["strategies"]["robust"]
    binary = [v[0] for k, v in robust["vectors"].items() if set(k.split(",")) <= {"0", "3"}]
    assert robust["worstOf0AndLast"]["agreement"][0] == min(binary)
    assert set(robust["worstOf0AndLast"]["vector"]) <= {0, 3}
    accuracy = evaluate.accuracy_metadata(robust, "fake", 10)
    assert len(accuracy["slices"]) == 4 and all(len(c) == 4 for c in accuracy["slices"])
    assert accuracy["slices"][1][2] == round(robust["slices"][1][2]["agreement"][0], 4)
    table = evaluate.markdown(report)
    assert "| robust | 0.5 |" in table and "worst" in table
    evaluate.plot(report, tmp_path / "plot.png")
    assert (tmp_path / "plot.png").read_bytes()[:4] == b"\x89PNG"

    model, meta = random_net(arch), metadata(arch)
    path = tmp_path / "model.safetensors"
    modelfile.write(path, model, meta, "f16")
    tensors = modelfile.read_tensors(path)
    modelfile.set_accuracy(path, accuracy)
    assert modelfile.read_metadata(path)["accuracy"] == json.loads(json.dumps(accuracy))
    assert all(torch.equal(t, tensors[k]) for k, t in modelfile.read_tensors(path).items())
    with pytest.raises(ValueError, match="one value per slice option"):
        modelfile.set_accuracy(path, {**accuracy, "uniform": [1.0]})
    with pytest.raises(ValueError, match=r"0\.\.\.1"):
        modelfile.set_accuracy(path, {**accuracy, "slices": [[1.5, 1, 1, 1]] * 4})
