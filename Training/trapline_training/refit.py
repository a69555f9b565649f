r"""Re-fits every pruned level of a model by least squares and writes a format 2 model file.

    python -m trapline_training.refit --model Models/efficientnet-lite0.safetensors --out /tmp/refit.safetensors

First the expanded channels of every prunable block (and the head's features) are re-ordered by greedy backward
elimination on the unpruned network's activations (`greedy_order`; nested, so it is only a new channel order
and full width is unchanged). Then a pruned level keeps level 0's batch norms on its kept channels, and for
every prunable block, in network order, its *project* 1x1 convolution and bias at that level are fitted by ridge
least squares so that the block's output matches the unpruned network's block output (He et al. 2017, "Channel
Pruning for Accelerating Very Deep Neural Networks"; Luo et al. 2017, ThiNet). The fit is sequential: the block
sees the activations of the network pruned up to it with the weights already fitted, and, with equal weight,
the unpruned network's own activations (the block may be the first pruned one of a slice). The head's fully
connected layer per level is the original one composed with a least-squares reconstruction of all 1280
features from the kept ones (`fit_head`).

The fitting views are random square crops (side 25-100% of the short edge) and mirror images of real photos
only: the photographs among Debian's wallpapers, opencv-doc's and darknet's photos and scikit-image's photos,
with camera-trap conditions added (`augment`); and as many views with an animal: tuxpaint's real-photo
cut-outs of the taxa the camera-trap builder trains on, composited onto crops of those photos or onto plain
canvases (`animal_views`). The evaluation photos (`levels.held_out_photos`: the held-out set less those stamps)
and the backgrounds of the synthetic camera-trap evaluation frames are never fitted on. Nothing is trained by
gradient descent; the shared weights and level 0 are the source file's up to the channel order (full width
computes what it computed).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 (the conventional name)
from PIL import Image

from . import camtrap, modelfile
from .architecture import INPUT_SIZE
from .images import centre_square, normalise
from .importance import _permute, _permute_norm
from .label_eval import TRUTH, resolve
from .model import Head, MBConv, TraplineNet

WALLPAPERS = Path("/usr/share/wallpapers")
OPENCV = Path("/usr/share/doc/opencv-doc/examples/data")
DARKNET = Path("/usr/share/darknet/data")
# Drawings, renders, logos, charts and scans among those folders: not photos.
NOT_PHOTOS = {
    "Blender_Suzanne1.jpg",
    "Blender_Suzanne2.jpg",
    "LinuxLogo.jpg",
    "WindowsLogo.jpg",
    "ellipses.jpg",
    "scream.jpg",
    "starry_night.jpg",
    "pca_test1.jpg",
    "imageTextN.png",
}
SKIMAGE_PHOTOS = ("brick.png", "coffee.png", "rocket.jpg", "coins.png", "moon.png", "motorcycle_right.png")
# Camera-trap evaluation backgrounds (trapline_training.camtrap.EVAL_BACKGROUNDS) are never fitted on.
EVAL_WALLPAPERS = ("Path", "ColdRipple")
# The wallpapers that are photographs (checked by eye on a contact sheet, 2026-11-30); the others are drawings
# and renders. The photographs among the held-out set's wallpapers are left out with it.
WALLPAPER_PHOTOS = ("ColorfulCups", "EveningGlow", "Grey", "Kite", "Volna")
LONGEST = 1024
BLOCK_RIDGE = 1e-4
# Greedy re-ordering helps the early, generic blocks and hurts the deep ones, whose channels are class-specific:
# the fitting views show few of ImageNet's classes, so elimination on them drops channels that other classes
# need. Measured on the held-out photos with 600 views (2026-11-30): greedy everywhere against the source's order,
# slice 0 at w0.5 79.9% against 70.7% top-1 agreement, slice 3 at w0.75 51.7% against 54.6%, every unit at
# w0.75 41.9% against 50.6%. Units below 8 (the 4-node plan's slices 0 and 1) are re-ordered.
GREEDY_BELOW = 8
PIXELS_PER_VIEW = 256


def held_out_files() -> set[Path]:
    """Every photo of the held-out evaluation set."""
    photos = json.loads(TRUTH.read_text(encoding="utf-8"))["photos"]
    return {resolve(photo["path"]).resolve() for photo in photos}


def largest_wallpaper(folder: Path) -> Path | None:
    """The largest picture of a wallpaper package folder."""
    images = sorted((folder / "contents" / "images").glob("*.*"))
    sized = [(int(p.stem.split("x")[0]) * int(p.stem.split("x")[1]), p) for p in images if "x" in p.stem]
    return max(sized)[1] if sized else None


def fit_photos() -> list[Path]:
    """The real photos the fit may use: everything listed above that is not held out."""
    import skimage

    held = held_out_files()
    candidates: list[Path] = []
    if WALLPAPERS.is_dir():
        for folder in sorted(WALLPAPERS.iterdir()):
            photo = folder.name in WALLPAPER_PHOTOS and folder.name not in EVAL_WALLPAPERS
            if photo and (found := largest_wallpaper(folder)) is not None:
                candidates.append(found)
    for folder in (OPENCV, DARKNET):
        if folder.is_dir():
            candidates += sorted(p for p in folder.glob("*.jpg") if p.name not in NOT_PHOTOS)
    candidates += [Path(skimage.__file__).parent / "data" / name for name in SKIMAGE_PHOTOS]
    photos = [p for p in candidates if p.exists() and p.resolve() not in held]
    if not photos:
        raise FileNotFoundError("no fitting photos: run scripts/setup.sh --test (it installs the photo packages)")
    return photos


def load_scaled(path: Path, longest: int = LONGEST) -> Image.Image:
    """A photo as RGB, scaled down so that its longest side is at most `longest`."""
    with Image.open(path) as image:
        rgb = image.convert("RGB")
    scale = longest / max(rgb.size)
    if scale < 1:
        rgb = rgb.resize((max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale))), Image.BILINEAR)
    return rgb


def random_views(photos: Sequence[Path], count: int, seed: int) -> np.ndarray:
    """`count` views (uint8 NHWC, 224x224): photos in turn, a random square crop of 25-100% of the short edge
    at a random place, mirrored half the time, then camera-trap conditions (`augment`)."""
    rng = np.random.default_rng(seed)
    images = [load_scaled(p) for p in photos]
    views = np.empty((count, INPUT_SIZE, INPUT_SIZE, 3), dtype=np.uint8)
    for n in range(count):
        image = images[n % len(images)]
        short = min(image.size)
        side = short * rng.uniform(0.25, 1.0)
        left = rng.uniform(0, image.width - side)
        top = rng.uniform(0, image.height - side)
        view = image.resize((INPUT_SIZE, INPUT_SIZE), Image.BILINEAR, box=(left, top, left + side, top + side))
        array = np.asarray(view, dtype=np.uint8)
        views[n] = augment(rng, array[:, ::-1] if rng.random() < 0.5 else array)
    return views


def fitted_stamps() -> list[camtrap.Stamp]:
    """The animal photos the fit may use: tuxpaint's real-photo cut-outs of the taxa that the camera-trap
    builder trains on (its `train` split); the held-out taxa's stamps are never fitted on."""
    return camtrap.split_stamps(camtrap.find_stamps())["train"]


def animal_views(photos: Sequence[Path], count: int, seed: int) -> np.ndarray:
    """`count` views (uint8 NHWC, 224x224) with an animal: a fitted stamp composited (as the camera-trap builder
    does: scale, partial visibility, motion blur, lighting) onto a 4:3 crop of a fitting photo or, for a third,
    onto a plain canvas; infrared night on a third; then the centre square as trapline crops it, and `augment`."""
    rng = np.random.default_rng(seed)
    backgrounds = [np.asarray(load_scaled(p, 800), dtype=np.float32) for p in photos]
    stamps = [camtrap.load_stamp(s) for s in fitted_stamps()]
    views = np.empty((count, INPUT_SIZE, INPUT_SIZE, 3), dtype=np.uint8)
    for n in range(count):
        if rng.random() < 1 / 3:
            shape = (camtrap.FRAME_HEIGHT, camtrap.FRAME_WIDTH, 3)
            frame = np.full(shape, rng.uniform(40, 220) if rng.random() < 0.5 else 128.0, np.float32)
        else:
            frame = camtrap.crop_background(rng, backgrounds[int(rng.integers(len(backgrounds)))], texture=False)
        camtrap.composite(
            rng, frame, stamps[int(rng.integers(len(stamps)))], int(rng.integers(3, 12)) if rng.random() < 0.2 else 0
        )
        if rng.random() < 1 / 3:
            frame = camtrap.night(rng, frame)
        image = Image.fromarray(np.clip(frame + 0.5, 0, 255).astype(np.uint8))
        square = image.resize((INPUT_SIZE, INPUT_SIZE), Image.BILINEAR, box=centre_square(*image.size))
        views[n] = augment(rng, np.asarray(square, dtype=np.uint8), grayscale=False)
    return views


def fitting_views(count: int, seed: int) -> tuple[np.ndarray, list[Path]]:
    """Half photo views (`random_views`), half animal views (`animal_views`), interleaved; and the photos."""
    photos = fit_photos()
    half = count // 2
    views = np.concatenate([random_views(photos, count - half, seed), animal_views(photos, half, seed + 1)])
    order = np.random.default_rng(seed + 2).permutation(count)
    return views[order], photos


def augment(rng: np.random.Generator, view: np.ndarray, grayscale: bool = True) -> np.ndarray:
    """What a trail camera and its users add to a photo, each at random: a third of the views grayscale (infrared
    night frames), a quarter shrunk onto a plain canvas (a subject against sky, snow or a studio backdrop),
    exposure and contrast off by up to 40%, and sensor noise on a fifth."""
    out = view.astype(np.float32)
    if grayscale and rng.random() < 0.33:
        out[:] = out @ np.array([0.299, 0.587, 0.114], dtype=np.float32)[:, None]
    if rng.random() < 0.25:
        side = int(INPUT_SIZE * rng.uniform(0.35, 0.9))
        small = np.asarray(Image.fromarray(out.astype(np.uint8)).resize((side, side), Image.BILINEAR), np.float32)
        canvas = np.full_like(out, rng.uniform(40, 220) if rng.random() < 0.5 else 128.0)
        top, left = rng.integers(0, INPUT_SIZE - side + 1, 2)
        canvas[top : top + side, left : left + side] = small
        out = canvas
    mean = out.mean()
    out = (out - mean) * rng.uniform(0.6, 1.4) + mean * rng.uniform(0.6, 1.4)
    if rng.random() < 0.2:
        out += rng.normal(0, rng.uniform(2, 10), out.shape).astype(np.float32)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def refit_model(source: TraplineNet) -> TraplineNet:
    """A format 2 model with the source's shared weights and level-0 batch norms; per-level weights start as
    the source's folded full-width project (and fc) columns, as if nothing were fitted yet."""
    target = TraplineNet(source.arch, refit=True)
    own = target.state_dict()
    shared = {k: v for k, v in source.state_dict().items() if k in own}
    missing = target.load_state_dict(shared, strict=False).missing_keys
    unexpected = [k for k in missing if ".project.level" not in k and ".fc.level" not in k]
    if unexpected:
        raise ValueError(f"the source lacks shared tensors: {unexpected[:5]}")
    unfitted_levels(target)
    return target.eval()


@torch.no_grad()
def unfitted_levels(target: TraplineNet) -> None:
    """Sets every per-level layer to the kept columns of the full-width layer (batch norm folded): the prior
    the fit starts from and is pulled towards."""
    arch = target.arch
    for u in range(arch.unit_count):
        module = target.unit(u)
        for level in range(1, arch.level_count):
            kept = arch.kept(u, level)
            if isinstance(module, MBConv) and hasattr(module.project, f"level{level}"):
                bn = module.bn2.stats(0)
                scale = bn.weight / torch.sqrt(bn.var + module.bn2.eps)
                child = getattr(module.project, f"level{level}")
                child.weight.copy_(module.project.weight[:, :kept] * scale[:, None, None, None])
                child.bias.copy_(bn.bias - bn.mean * scale)
            elif isinstance(module, Head):
                child = getattr(module.fc, f"level{level}")
                child.weight.copy_(module.fc.weight[:, :kept])
                child.bias.copy_(module.fc.bias)


def greedy_order(gram: torch.Tensor, cross: torch.Tensor, keep: int) -> torch.Tensor:
    """Channels by backward elimination: from all of them, repeatedly drop the one whose removal raises the
    least-squares error of T ~ A W + b least (with W refitted), until `keep` remain. Returns the channel order
    with the survivors first (in their index order), then the dropped ones from last dropped to first, so every
    prefix is the set elimination left at that size (nested, as the levels need).

    Removing variable j from a least-squares fit with inverse Gram matrix P and solution W raises the squared
    error by |W_j|^2 / P_jj; P and W are then downdated in O(k^2) (Schur complement). The last row and column
    of `gram` and `cross` belong to the bias, which always stays. A ridge of 1e-6 of the mean diagonal keeps P
    well defined when channels are collinear or dead.
    """
    k = gram.shape[0] - 1
    system = gram.clone()
    system[range(k), range(k)] += 1e-6 * float(torch.diagonal(gram)[:k].mean()) + 1e-12
    inverse = torch.linalg.inv(system)
    weights = inverse @ cross
    alive = list(range(k + 1))
    dropped: list[int] = []
    while len(alive) - 1 > keep:
        diagonal = torch.diagonal(inverse)[:-1]
        cost = (weights[:-1] ** 2).sum(1) / diagonal.clamp_min(1e-30)
        j = int(torch.argmin(cost))
        dropped.append(alive[j])
        column = inverse[:, j : j + 1]
        weights = weights - column @ weights[j : j + 1] / inverse[j, j]
        inverse = inverse - column @ inverse[j : j + 1] / inverse[j, j]
        rest = [i for i in range(len(alive)) if i != j]
        inverse, weights = inverse[rest][:, rest], weights[rest]
        alive.pop(j)
    return torch.tensor(sorted(alive[:-1]) + dropped[::-1])


@torch.no_grad()
def greedy_reorder(model: TraplineNet, views: torch.Tensor, chunk: int, below: int) -> None:
    """Re-orders the expanded channels of every prunable unit before unit `below` by `greedy_order` on the
    full-width network's activations over `views`, in place. A permutation of hidden channels: full width is
    unchanged. Later units keep the source's order (see GREEDY_BELOW)."""
    arch = model.arch
    x = views
    smallest = arch.level_count - 1
    for u in range(min(below, arch.unit_count)):
        module = model.unit(u)
        if arch.units[u].prunable and isinstance(module, MBConv):
            e = arch.units[u].expanded_channels
            equations = NormalEquations(e, arch.units[u].out_channels)
            for i in range(0, len(x), chunk):
                h = module.expanded(x[i : i + chunk], 0, e)
                target = module.bn2(F.conv2d(h, module.project.weight), 0)
                equations.add(*sampled_pixels(h, target, torch.Generator().manual_seed(u + i)))
            order = greedy_order(equations.gram, equations.cross, arch.kept(u, smallest))
            _permute(module.expand.weight, order, 0)
            _permute_norm(module.bn0, order)
            _permute(module.depthwise.weight, order, 0)
            _permute_norm(module.bn1, order)
            _permute(module.project.weight, order, 1)
        elif arch.units[u].prunable and isinstance(module, Head):
            f = arch.units[u].expanded_channels
            equations = NormalEquations(f, arch.units[u].out_channels)
            for i in range(0, len(x), chunk):
                features = module.features(x[i : i + chunk], 0, f)
                equations.add(features, F.linear(features, module.fc.weight, module.fc.bias))
            order = greedy_order(equations.gram, equations.cross, arch.kept(u, smallest))
            _permute(module.conv.weight, order, 0)
            _permute_norm(module.bn, order)
            _permute(module.fc.weight, order, 1)
        if u < arch.unit_count - 1:
            x = chunked(lambda v, u=u: model.run_unit(u, v, 0), x, chunk)


def chunked(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, chunk: int) -> torch.Tensor:
    """`fn` over `x` in chunks along the first dimension, concatenated."""
    return torch.cat([fn(x[i : i + chunk]) for i in range(0, len(x), chunk)])


class NormalEquations:
    """Running sums of A^T A and A^T T for a ridge fit of T ~ A W + b (float64)."""

    def __init__(self, features: int, outputs: int) -> None:
        self.gram = torch.zeros(features + 1, features + 1, dtype=torch.float64)
        self.cross = torch.zeros(features + 1, outputs, dtype=torch.float64)
        self.rows = 0

    def add(self, inputs: torch.Tensor, targets: torch.Tensor) -> None:
        """Adds rows: `inputs` [rows, features], `targets` [rows, outputs]."""
        a = torch.cat([inputs.double(), torch.ones(len(inputs), 1, dtype=torch.float64)], dim=1)
        self.gram += a.T @ a
        self.cross += a.T @ targets.double()
        self.rows += len(inputs)

    def solve(self, ridge: float, prior: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Weights [outputs, features] and bias [outputs] minimising the squared error plus
        `ridge * mean(diag(A^T A)) * |W - prior|^2`: the fit is pulled towards `prior` [outputs, features] (the
        unpruned weights' kept columns), not towards zero, and the bias is not penalised."""
        features = self.gram.shape[0] - 1
        penalty = ridge * float(torch.diagonal(self.gram)[:features].mean())
        system = self.gram.clone()
        system[range(features), range(features)] += penalty
        right = self.cross.clone()
        right[:features] += penalty * prior.double().T
        solution = torch.linalg.solve(system, right)
        return solution[:features].T.float(), solution[features].float()


def pixels(x: torch.Tensor) -> torch.Tensor:
    """NCHW to [N*H*W, C]."""
    return x.permute(0, 2, 3, 1).reshape(-1, x.shape[1])


def sampled_pixels(
    inputs: torch.Tensor, targets: torch.Tensor, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Matching pixel rows of two NCHW tensors, at most PIXELS_PER_VIEW per image chosen at random: the early
    blocks have thousands of pixels per view, and a subset is plenty for a few hundred weights."""
    rows_in, rows_out = pixels(inputs), pixels(targets)
    limit = PIXELS_PER_VIEW * len(inputs)
    if len(rows_in) > limit:
        chosen = torch.randperm(len(rows_in), generator=generator)[:limit]
        rows_in, rows_out = rows_in[chosen], rows_out[chosen]
    return rows_in, rows_out


@torch.no_grad()
def fit_block(
    block: MBConv, level: int, kept: int, pruned: torch.Tensor, full: torch.Tensor, full_out: torch.Tensor, chunk: int
) -> None:
    """Fits `block.project.level{level}` from both input conditions (pruned and unpruned predecessors)."""
    equations = NormalEquations(kept, block.spec.out_channels)
    generator = torch.Generator().manual_seed(level * 1000 + block.spec.out_channels)
    for inputs in (pruned, full):
        for i in range(0, len(inputs), chunk):
            x = inputs[i : i + chunk]
            h = block.expanded(x, 0, kept)
            target = full_out[i : i + chunk] - (x if block.spec.has_residual else 0)
            equations.add(*sampled_pixels(h, target, generator))
    child = getattr(block.project, f"level{level}")
    weight, bias = equations.solve(BLOCK_RIDGE, child.weight[:, :, 0, 0])
    child.weight.copy_(weight[:, :, None, None])
    child.bias.copy_(bias)


@torch.no_grad()
def fit_head(
    model: TraplineNet, level: int, kept: int, pruned: torch.Tensor, full: torch.Tensor, chunk: int
) -> dict[str, Any]:
    """Fits `head.fc.level{level}` through the features: a ridge map M (pulled towards the identity on the kept
    features) from the kept features to all of the unpruned network's features, per pixel before pooling, from
    both input conditions; then fc_level = fc M and its bias fc m0 + b. Reconstructing features, like the
    blocks' fits, does not depend on which classes the fitting photos show; fitting the 1000 logits directly
    did (measured: it shifted every class's bias towards the landscapes it was fitted on)."""
    head = model.unit(model.arch.unit_count - 1)
    features = model.arch.units[-1].expanded_channels
    equations = NormalEquations(kept, features)
    for inputs in (pruned, full):
        for i in range(0, len(inputs), chunk):
            h = F.relu6(head.bn(F.conv2d(inputs[i : i + chunk], head.conv.weight[:kept]), 0))
            target = F.relu6(head.bn(F.conv2d(full[i : i + chunk], head.conv.weight), 0))
            equations.add(pixels(h), pixels(target))
    prior = torch.zeros(features, kept)
    prior[range(kept), range(kept)] = 1
    mapping, offset = equations.solve(BLOCK_RIDGE, prior)
    child = getattr(head.fc, f"level{level}")
    child.weight.copy_(head.fc.weight @ mapping)
    child.bias.copy_(head.fc.weight @ offset + head.fc.bias)
    return {"ridge": BLOCK_RIDGE, "rows": equations.rows}


@torch.no_grad()
def refit(
    source: TraplineNet,
    views: torch.Tensor,
    chunk: int = 16,
    log: Callable[[str], None] = print,
    reorder: bool = True,
    greedy_below: int = GREEDY_BELOW,
) -> dict[str, Any]:
    """Re-fits every pruned level of `source` on normalised `views` (NCHW), after re-ordering the expanded
    channels by greedy elimination (`reorder`).

    - Returns: `model` (the format 2 `TraplineNet`) and `heads` (per level: the chosen ridge strength and the
      validation top-1 agreement of each candidate).
    """
    arch = source.arch
    model = refit_model(source)
    if reorder:
        started = time.monotonic()
        greedy_reorder(model, views, chunk, greedy_below)
        unfitted_levels(model)
        log(f"channels re-ordered by greedy elimination in {time.monotonic() - started:.0f} s")
    first = next(u for u in range(arch.unit_count) if arch.units[u].prunable)
    entry = chunked(lambda x: model(x, [0] * first, 0, first), views, chunk)
    last = arch.unit_count - 1
    heads = {}
    for level in range(1, arch.level_count):
        started = time.monotonic()
        pruned, full = entry, entry
        for u in range(first, last):
            block = model.unit(u)
            full_out = chunked(lambda x, u=u: model.run_unit(u, x, 0), full, chunk)
            if arch.units[u].prunable:
                fit_block(block, level, arch.kept(u, level), pruned, full, full_out, chunk)
            pruned = chunked(lambda x, u=u, level=level: model.run_unit(u, x, level), pruned, chunk)
            full = full_out
        heads[level] = fit_head(model, level, arch.kept(last, level), pruned, full, chunk)
        log(f"level {level} ({arch.prune_levels[level]}): fitted in {time.monotonic() - started:.0f} s")
    return {"model": model, "heads": heads}


def residual_units(model: TraplineNet) -> list[int]:
    """Every residual block: the units a slice option may skip."""
    return [u for u, unit in enumerate(model.arch.units) if unit.has_residual]


def refit_metadata(meta: dict[str, Any], skippable: list[int], description: str) -> dict[str, Any]:
    """The format 2 metadata: the source's, with the skippable units, one slice option ("skip": the slice's
    skippable blocks skipped, the rest at full width), no accuracy curves yet (`trapline_training.levels`
    measures them) and the fit recorded in the provenance."""
    out = dict(meta)
    out["formatVersion"] = modelfile.REFIT_VERSION
    out["name"] = meta["name"].replace("-robust", "") + "-refit"
    out["skippableUnits"] = skippable
    out["sliceOptions"] = [{"name": "skip", "skip": True, "level": 0}]
    out["accuracy"] = None
    provenance = dict(meta.get("provenance") or {})
    provenance["prunedLevels"] = description
    out["provenance"] = provenance
    return out


def source_units(path: Path) -> int:
    """The number of units of a model file."""
    return len(modelfile.read_metadata(path)["units"])


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m trapline_training.refit", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="source model file (format 1 or 2)")
    parser.add_argument("--out", type=Path, required=True, help="format 2 model file to write")
    parser.add_argument("--views", type=int, default=1200, help="random views of the fitting photos (1200)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the views (0)")
    parser.add_argument("--threads", type=int, default=0, help="PyTorch threads (0: PyTorch's default)")
    parser.add_argument(
        "--keep-order", action="store_true", help="keep the source's channel order (no greedy re-ordering)"
    )
    parser.add_argument(
        "--greedy-below", type=int, default=GREEDY_BELOW, help=f"re-order units below this one ({GREEDY_BELOW})"
    )
    parser.add_argument(
        "--levels", default=None, help="prune levels to fit, comma-separated from 0 (default: the source's)"
    )
    args = parser.parse_args(argv)
    if args.views < 10:
        parser.error("--views must be at least 10")
    if args.threads:
        torch.set_num_threads(args.threads)
    if not 0 <= args.greedy_below <= source_units(args.model):
        parser.error("--greedy-below must be a unit index of the model")
    started = time.monotonic()
    source, meta = modelfile.read(args.model)
    if args.levels is not None:
        from .slimmable import widened  # imported here: slimmable builds on this module

        levels = tuple(float(v) for v in args.levels.split(","))
        if levels[0] != 0 or list(levels) != sorted(set(levels)) or levels[-1] >= 1:
            parser.error("--levels must start at 0 and increase below 1")
        source = widened(source, levels)
        meta = {**meta, "pruneLevels": list(levels), "keptChannels": source.arch.kept_table()}
    raw, photos = fitting_views(args.views, args.seed)
    views = normalise(raw)
    print(f"{len(photos)} fitting photos and {len(fitted_stamps())} animal stamps, {args.views} views", flush=True)
    result = refit(
        source,
        views,
        log=lambda line: print(line, flush=True),
        reorder=not args.keep_order,
        greedy_below=args.greedy_below,
    )
    order = "source channel order" if args.keep_order else f"units below {args.greedy_below} re-ordered greedily"
    description = (
        f"pruned levels re-fitted by trapline_training.refit (ridge least squares, {args.views} views of "
        f"{len(photos)} real photos and {len(fitted_stamps())} animal stamps, seed {args.seed}; {order}) from "
        f"{meta['name']} (sha256 {modelfile.sha256(args.model)})"
    )
    model = result["model"]
    modelfile.write(args.out, model, refit_metadata(meta, residual_units(model), description))
    print(f"wrote {args.out} in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
