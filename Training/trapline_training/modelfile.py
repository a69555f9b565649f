"""Writes and reads trapline model files: safetensors with a `trapline` JSON document in `__metadata__`."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from .architecture import INPUT_SIZE, Architecture, architecture_from_metadata
from .images import INPUT_MEAN, INPUT_SCALE
from .model import TraplineNet

FORMAT = "trapline-model"
FORMAT_VERSION = 1
REFIT_VERSION = 2
"""Format 2: least-squares re-fitted pruned levels (per-level project and fc weights), residual blocks that may be
skipped, and per-slice options (docs/model-file.md)."""
SLIMMABLE_VERSION = 3
"""Format 3: batch norms per level as in format 1, for weights trained for every level at once
(`trapline_training.slimmable`), with format 2's skippable residual blocks and slice options."""
VERSIONS = (FORMAT_VERSION, REFIT_VERSION, SLIMMABLE_VERSION)
OPTION_VERSIONS = (REFIT_VERSION, SLIMMABLE_VERSION)
METADATA_KEY = "trapline"
DTYPES: dict[str, torch.dtype] = {"f16": torch.float16, "f32": torch.float32}


def model_tensors(model: TraplineNet, dtype: str = "f16") -> dict[str, torch.Tensor]:
    """The model's tensors under their model-file names, converted to the storage dtype."""
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {sorted(DTYPES)}, not {dtype!r}")
    return {name: t.detach().to(DTYPES[dtype]).contiguous() for name, t in model.state_dict().items()}


def write(path: str | Path, model: TraplineNet, metadata: dict[str, Any], dtype: str = "f16") -> None:
    """Writes `model` and its metadata as a trapline model file.

    - Parameters:
      - path: the file to write (replaced if it exists).
      - metadata: the `trapline` document; `format` and `formatVersion` must be this module's.
      - dtype: `f16` or `f32` storage.
    """
    if metadata.get("format") != FORMAT or metadata.get("formatVersion") not in VERSIONS:
        raise ValueError(f"metadata must declare format {FORMAT!r} version 1, 2 or 3")
    if (metadata["formatVersion"] == REFIT_VERSION) != model.refit:
        raise ValueError("a format 2 file holds a re-fitted model, formats 1 and 3 a batch-norm-per-level one")
    validate_options(metadata)
    save_file(model_tensors(model, dtype), str(path), metadata={METADATA_KEY: json.dumps(metadata)})


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The `trapline` metadata document of a model file."""
    with safe_open(str(path), framework="pt") as f:
        header = f.metadata() or {}
    if METADATA_KEY not in header:
        raise ValueError(f"{path}: no {METADATA_KEY!r} entry in the safetensors metadata")
    meta = json.loads(header[METADATA_KEY])
    if meta.get("format") != FORMAT or meta.get("formatVersion") not in VERSIONS:
        raise ValueError(f"{path}: not a {FORMAT} file of version 1, 2 or 3")
    return meta


def option_count(meta: dict[str, Any]) -> int:
    """Options a slice can run: the width levels, then the `sliceOptions` (formats 2 and 3)."""
    return len(meta["pruneLevels"]) + len(meta.get("sliceOptions") or [])


def validate_options(meta: dict[str, Any]) -> None:
    """Checks `skippableUnits` and `sliceOptions` (formats 2 and 3; docs/model-file.md); raises `ValueError`."""
    if meta.get("formatVersion") not in OPTION_VERSIONS:
        for key in ("skippableUnits", "sliceOptions"):
            if key in meta:
                raise ValueError(f"{key} needs format version 2 or 3")
        return
    arch = architecture_from_metadata(meta)
    skippable = meta.get("skippableUnits")
    if not isinstance(skippable, list) or not all(isinstance(u, int) for u in skippable):
        raise ValueError("skippableUnits must be a list of unit indices")
    if skippable != sorted(set(skippable)):
        raise ValueError(f"skippableUnits must be ascending without repeats: {skippable}")
    for u in skippable:
        if not 0 <= u < arch.unit_count or not arch.units[u].has_residual:
            raise ValueError(f"skippableUnits: unit {u} is not a residual block")
    options = meta.get("sliceOptions")
    if not isinstance(options, list):
        raise ValueError("sliceOptions must be a list")
    if not options:
        raise ValueError("a format 2 or 3 model needs at least one slice option")
    names = {f"w{1 - p:g}" for p in meta["pruneLevels"]}  # the width levels' names, as trapline prints them
    for option in options:
        if not isinstance(option, dict) or set(option) != {"name", "skip", "level"}:
            raise ValueError(f"a slice option has exactly name, skip and level: {option}")
        name, level = option["name"], option["level"]
        if not isinstance(name, str) or not 0 < len(name) <= 32 or name in names:
            raise ValueError(f"slice option names must be 1-32 characters, unique and not a width level's: {name!r}")
        if not all(c.isalnum() or c in "+-_." for c in name):
            raise ValueError(f"slice option name {name!r} has characters other than letters, digits and +-_.")
        names.add(name)
        if option["skip"] is not True or not isinstance(level, int) or not 0 <= level < arch.level_count:
            raise ValueError(f"slice option {name}: skip must be true and level a width level index")


def validate_accuracy(meta: dict[str, Any]) -> None:
    """Checks the `accuracy` document (null, or agreement curves per slice of a plan; docs/model-file.md).

    - Throws: `ValueError` naming what is wrong.
    """
    accuracy = meta.get("accuracy")
    if accuracy is None:
        return
    levels = len(meta["pruneLevels"])
    options = option_count(meta)
    plan = meta["slicePlans"].get(str(accuracy.get("plan")))
    if plan is None:
        raise ValueError(f"accuracy refers to plan {accuracy.get('plan')!r}, which slicePlans lacks")
    slices, uniform = accuracy.get("slices"), accuracy.get("uniform")
    if not isinstance(slices, list) or len(slices) != len(plan) - 1:
        raise ValueError(f"accuracy.slices needs one curve per slice of plan {accuracy['plan']}")
    for curve, width in [*((c, options) for c in slices), (uniform, levels)]:
        if not isinstance(curve, list) or len(curve) != width:
            raise ValueError(f"accuracy curves need one value per slice option ({options}; uniform: per level)")
        if not all(isinstance(v, int | float) and 0 <= v <= 1 for v in curve):
            raise ValueError(f"accuracy values must lie in 0...1: {curve}")
    if not isinstance(accuracy.get("metric"), str) or not isinstance(accuracy.get("images"), int):
        raise ValueError("accuracy needs a metric name and an image count")


def set_accuracy(path: str | Path, accuracy: dict[str, Any] | None) -> None:
    """Rewrites a model file with a new `accuracy` document; the tensors are written back as stored."""
    _set_metadata(path, "accuracy", accuracy)


def set_taxonomy(path: str | Path, taxonomy: dict[str, Any] | None) -> None:
    """Rewrites a model file with a new `taxonomy` document (`trapline_training.taxonomy`)."""
    _set_metadata(path, "taxonomy", taxonomy)


def validate_taxonomy(meta: dict[str, Any]) -> None:
    """Checks the `taxonomy` document, if any (docs/model-file.md); raises `ValueError` naming the fault."""
    from .taxonomy import validate

    if meta.get("taxonomy") is not None:
        validate(meta["taxonomy"], len(meta["classes"]["names"]))


def _set_metadata(path: str | Path, key: str, value: Any) -> None:
    meta = read_metadata(path)
    meta[key] = value
    validate_options(meta)
    validate_accuracy(meta)
    validate_taxonomy(meta)
    tensors = read_tensors(path)
    mode = os.stat(path).st_mode & 0o777
    save_file(tensors, str(path), metadata={METADATA_KEY: json.dumps(meta)})
    os.chmod(path, mode)  # safetensors writes a new file readable by its owner only


def read_tensors(path: str | Path) -> dict[str, torch.Tensor]:
    """Every tensor of a model file as stored (F16 or F32)."""
    with safe_open(str(path), framework="pt") as f:
        return {name: f.get_tensor(name) for name in f.keys()}  # noqa: SIM118 (safe_open is not a dict)


def read(path: str | Path) -> tuple[TraplineNet, dict[str, Any]]:
    """Loads a model file.

    - Returns: a `TraplineNet` in eval mode with the stored weights upcast to float32, and the metadata.
    - Throws: `ValueError` when the metadata is missing, foreign or has malformed accuracy curves or taxonomy, or
      a tensor is missing, extra, of a dtype other than F16/F32, or of the wrong shape for the declared architecture.
    """
    meta = read_metadata(path)
    validate_options(meta)
    validate_accuracy(meta)
    validate_taxonomy(meta)
    model = TraplineNet(architecture_from_metadata(meta), refit=meta["formatVersion"] == REFIT_VERSION)
    tensors = read_tensors(path)
    for name, tensor in tensors.items():
        if tensor.dtype not in DTYPES.values():
            raise ValueError(f"{path}: tensor {name} has dtype {tensor.dtype}; only F16 and F32 are allowed")
    expected = model.state_dict()
    missing, extra = sorted(set(expected) - set(tensors)), sorted(set(tensors) - set(expected))
    if missing or extra:
        raise ValueError(f"{path}: missing tensors {missing[:5]}, unexpected tensors {extra[:5]}")
    for name, tensor in tensors.items():
        if tensor.shape != expected[name].shape:
            raise ValueError(f"{path}: {name} has shape {list(tensor.shape)}, expected {list(expected[name].shape)}")
    model.load_state_dict({name: t.float() for name, t in tensors.items()})
    return model.eval(), meta


def sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_metadata(
    arch: Architecture,
    *,
    name: str,
    class_names: list[str],
    animal_ranges: list[list[int]],
    unit_costs_ms: list[float],
    slice_plans: dict[str, list[int]],
    provenance: dict[str, str],
    license: str,
    architecture: str = "efficientnet-lite",
) -> dict[str, Any]:
    """The `trapline` metadata document for `arch` (field order as in docs/model-file.md)."""
    if len(class_names) != arch.units[-1].out_channels:
        raise ValueError(f"{len(class_names)} class names for {arch.units[-1].out_channels} classes")
    if len(unit_costs_ms) != arch.unit_count:
        raise ValueError(f"{len(unit_costs_ms)} unit costs for {arch.unit_count} units")
    return {
        "format": FORMAT,
        "formatVersion": FORMAT_VERSION,
        "name": name,
        "architecture": architecture,
        "activation": "relu6",
        "padding": "tf-same",
        "batchNormEpsilon": arch.batch_norm_epsilon,
        "input": {
            "width": INPUT_SIZE,
            "height": INPUT_SIZE,
            "channels": 3,
            "mean": [INPUT_MEAN] * 3,
            "scale": [INPUT_SCALE] * 3,
            "crop": "center",
        },
        "units": [unit.to_metadata() for unit in arch.units],
        "pruneLevels": list(arch.prune_levels),
        "keptChannels": arch.kept_table(),
        "slicePlans": slice_plans,
        "unitCostsMs": unit_costs_ms,
        "classes": {"names": class_names, "animalRanges": animal_ranges},
        "accuracy": None,
        "provenance": provenance,
        "license": license,
    }
