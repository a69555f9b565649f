"""Camera-trap-like bursts with known boxes, and the scoring of `trapline bursts` against them."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from trapline_training import burst_eval, bursts, camtrap
from trapline_training.label_eval import Scorer

from .conftest import MODEL_FILE, REPO

TRAPLINE = REPO / ".build" / "debug" / "trapline"
needs_stamps = pytest.mark.skipif(
    not camtrap.STAMPS.is_dir(), reason="needs Debian's tuxpaint-stamps-default (scripts/setup.sh installs it)"
)
TINY = (160, 120)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    if not camtrap.STAMPS.is_dir():
        pytest.skip("needs Debian's tuxpaint-stamps-default (scripts/setup.sh installs it)")
    out = tmp_path_factory.mktemp("bursts")
    return out, bursts.build(out, seed=3, animal=4, blank=2, size=TINY, log=False)


def frame_files(out: Path, manifest: dict[str, Any]) -> list[Path]:
    return [out / f["file"] for b in manifest["bursts"] for f in b["frames"]]


@needs_stamps
def test_the_bursts_are_deterministic_from_their_seed(built: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    out, manifest = built
    again = bursts.build(tmp_path, seed=3, animal=4, blank=2, size=TINY, log=False)
    assert again == manifest
    for path in frame_files(out, manifest):
        assert (tmp_path / path.relative_to(out)).read_bytes() == path.read_bytes()
    other = bursts.BurstBuilder(4, *TINY).render("eval", 0, "blank")[0][0]
    assert other != (out / manifest["bursts"][0]["frames"][0]["file"]).read_bytes()


@needs_stamps
def test_frames_hold_the_truth_the_manifest_gives(built: tuple[Path, dict[str, Any]]) -> None:
    out, manifest = built
    assert [b["kind"] for b in manifest["bursts"]].count("blank") == 2
    names = [p.name for p in frame_files(out, manifest)]
    for burst in manifest["bursts"]:
        assert 3 <= len(burst["frames"]) <= 10
        files = [f["file"] for f in burst["frames"]]
        assert files == sorted(files) and all(f.startswith(burst["folder"] + "/") for f in files)
        for frame in burst["frames"]:
            with Image.open(out / frame["file"]) as image:
                assert image.size == (frame["width"], frame["height"]) == TINY
            box = frame["box"]
            assert (box is not None) == frame["animal"] == (frame["visible"] >= bursts.VISIBLE_THRESHOLD)
            if box is not None:
                assert min(box["x"], box["y"]) >= 0 and min(box["width"], box["height"]) > 0
                assert box["x"] + box["width"] <= 1 and box["y"] + box["height"] <= 1
        if burst["kind"] == "blank":
            assert burst["species"] is None and all(f["box"] is None and f["visible"] == 0 for f in burst["frames"])
        else:
            assert sum(f["box"] is not None for f in burst["frames"]) >= 2
    assert len(names) == sum(len(b["frames"]) for b in manifest["bursts"])


@needs_stamps
def test_only_held_out_species_and_backgrounds_are_in_the_eval_split(built: tuple[Path, dict[str, Any]]) -> None:
    _, manifest = built
    for burst in manifest["bursts"]:
        assert burst["background"] in camtrap.EVAL_BACKGROUNDS
        if burst["kind"] == "animal":
            assert burst["taxon"] in camtrap.HELD_OUT_TAXA
            assert (camtrap.STAMPS / burst["stamp"]).stem == burst["species"]
    builder = bursts.BurstBuilder(0, *TINY, frames=(3, 3))
    trained = [builder.render("train", k, "animal")[1] for k in range(6)]
    assert all(b.background in camtrap.TRAIN_BACKGROUNDS and b.taxon not in camtrap.HELD_OUT_TAXA for b in trained)


@needs_stamps
def test_the_info_strip_is_a_dark_band_where_flagged() -> None:
    builder = bursts.BurstBuilder(1, *TINY, frames=(3, 3))
    seen = set()
    for index in range(12):
        images, burst = builder.render("eval", index, "blank")
        if not burst.strip:
            continue
        seen.add(burst.stripPlacement)
        pixels = np.asarray(Image.open(io.BytesIO(images[0])).convert("L"), dtype=np.float32)
        band = burst.stripRows
        rows = {"top": [pixels[:band]], "bottom": [pixels[-band:]]}
        rows["both"] = rows["top"] + rows["bottom"]
        for part in rows[burst.stripPlacement]:
            assert np.median(part) < 40 and part.mean() < 90  # black with thin white text
    assert seen


@needs_stamps
def test_a_stationary_animal_keeps_its_box() -> None:
    builder = bursts.BurstBuilder(2, *TINY, frames=(6, 6))
    _, burst = builder.render("eval", 0, "animal", stationary=True)
    assert burst.stationary and len(burst.stationaryFrames) >= 3
    boxes = [burst.frames[k]["box"] for k in burst.stationaryFrames]
    assert all(b == boxes[0] for b in boxes)
    kinds = bursts.burst_kinds(0, 60, 30)
    assert kinds.count(("animal", True)) <= 0.2 * 60 and sum(k == "blank" for k, _ in kinds) == 30


def box(x: float, y: float, w: float, h: float, score: float = 1.0) -> dict[str, float]:
    return {"x": x, "y": y, "width": w, "height": h, "score": score}


def test_iou_and_the_greedy_matching() -> None:
    assert burst_eval.iou(box(0, 0, 2, 1), box(0, 0, 2, 1)) == 1
    assert burst_eval.iou(box(0, 0, 2, 1), box(1, 0, 2, 1)) == pytest.approx(1 / 3)
    assert burst_eval.iou(box(0, 0, 1, 1), box(2, 2, 1, 1)) == 0
    t1, t2 = box(0, 0, 10, 10), box(6, 0, 10, 10)
    a, b = box(2, 0, 10, 10, score=2), box(0, 0, 8, 10, score=1)  # a: IoU 0.67 with t1, 0.43 with t2
    assert burst_eval.matched([a, b], [t1, t2], 0.3) == 1  # a takes t1 first; b overlaps t2 too little
    assert burst_eval.matched([a, {**b, "score": 3}], [t1, t2], 0.3) == 2
    assert burst_eval.matched([a, b], [t1, t2], 0.7) == 1
    assert burst_eval.matched([a], [], 0.3) == 0


def label(kind: str, name: str | None = None, rank: str | None = None, index: int = 0) -> dict[str, Any]:
    return {
        "observationType": kind,
        "scientificName": name,
        "taxonRank": rank,
        "vernacularName": None,
        "classIndex": index,
        "probability": 0.6,
        "animalProbability": 0.7,
    }


def tiny_judge() -> burst_eval.Judge:
    taxa = [
        {"name": "Animalia", "rank": "kingdom", "parent": None},
        {"name": "Mammalia", "rank": "class", "parent": 0},
        {"name": "Felidae", "rank": "family", "parent": 1},
        {"name": "Panthera leo", "rank": "species", "parent": 2},
        {"name": "Canidae", "rank": "family", "parent": 1},
    ]
    taxonomy = {"taxa": taxa, "classes": [{"taxon": 3}, {"taxon": 4}]}
    lion = {"type": "animal", "scientificName": "Panthera leo", "rank": "species"}
    lineages = {"Panthera leo": ["Panthera leo", "Felidae", "Mammalia", "Animalia"]}
    return burst_eval.Judge(Scorer(taxonomy, lineages), {"cats/lion.png": lion})


def hand_made() -> tuple[list[dict[str, Any]], dict[str, Any], list[str]]:
    """Two bursts as the manifest has them and as `trapline bursts --json` reports them (the contract)."""

    def truth(name: str, b: dict[str, float] | None) -> dict[str, Any]:
        return {"file": name, "box": b}

    manifest = [
        {
            "kind": "animal",
            "stamp": "cats/lion.png",
            "species": "lion",
            "ir": False,
            "strip": True,
            "frames": [
                truth("b/0/f00.jpg", box(0.1, 0.1, 0.2, 0.2)),
                truth("b/0/f01.jpg", box(0.5, 0.5, 0.2, 0.2)),
                truth("b/0/f02.jpg", None),
            ],
        },
        {
            "kind": "blank",
            "stamp": None,
            "species": None,
            "ir": True,
            "strip": False,
            "frames": [truth("b/1/f00.jpg", None), truth("b/1/f01.jpg", None)],
        },
    ]
    lion, dog = label("animal", "Panthera leo", "species"), label("animal", "Canidae", "family", 1)
    mammal, blank = label("animal", "Mammalia", "class"), label("blank")

    def frame(name: str, boxes: list[dict[str, float]], whole: Any, crop: Any, combined: Any) -> dict[str, Any]:
        return {
            "file": name,
            "status": "labeled",
            "width": 160,
            "height": 120,
            "localised": True,
            "motion": bool(boxes),
            "boxes": boxes,
            "whole": whole,
            "crop": crop,
            "combined": combined,
        }

    output = {
        "model": "tiny",
        "bursts": [
            {
                "path": "/d/b/0",
                "event": lion,
                "frames": [
                    frame("/d/b/0/f00.jpg", [box(0.1, 0.1, 0.2, 0.2, 2)], blank, lion, lion),
                    frame("/d/b/0/f01.jpg", [box(0.55, 0.5, 0.2, 0.2)], mammal, dog, mammal),  # IoU 0.6
                    frame("/d/b/0/f02.jpg", [], blank, None, blank),
                ],
            },
            {
                "path": "/d/b/1",
                "event": blank,
                "frames": [
                    frame("/d/b/1/f00.jpg", [box(0.4, 0.4, 0.1, 0.1)], blank, dog, blank),
                    {"file": "/d/b/1/f01.jpg", "status": "failed", "error": "not a JPEG"},
                ],
            },
        ],
        "timing": {
            "frames": 4,
            "crops": 3,
            "grayDecodeMs": 4.0,
            "localiseMs": 8.0,
            "cropDecodeMs": 2.0,
            "wholeDecodeMs": 4.0,
            "wholeInferenceMs": 40.0,
            "cropInferenceMs": 30.0,
        },
    }
    return manifest, output, ["/d/b/0", "/d/b/1"]


def value(entry: dict[str, Any]) -> tuple[int, int]:
    low, high = entry["ci95"]
    assert low <= entry["value"] <= high
    return entry["count"], entry["of"]


def test_the_scores_of_hand_written_results() -> None:
    manifest, output, folders = hand_made()
    report = burst_eval.score(manifest, output, folders, tiny_judge())
    assert report["frames"]["labeled"] == 4 and report["frames"]["failed"] == 1
    assert report["frames"]["failures"] == [{"file": "b/1/f01.jpg", "error": "not a JPEG"}]
    local = report["localisation"]
    assert value(local["iou0.3"]["recall"]) == (2, 2) and value(local["iou0.3"]["precision"]) == (2, 3)
    assert value(local["iou0.5"]["recall"]) == (2, 2)  # the second box overlaps 0.6
    curve = {c["iou"]: c["recall"]["count"] for c in local["curve"]}
    assert curve[0.5] == 2 and curve[0.7] == 1
    assert value(local["blankFramesWithBox"]) == (1, 2)  # the box on the blank burst is a false positive
    expected = {  # animal/blank right: all, animal frames, blank frames, infrared; label right, family or deeper
        "whole": ((3, 4), (1, 2), (2, 2), (1, 1), (1, 2), (0, 2)),
        "crop": ((3, 4), (2, 2), (1, 2), (0, 1), (1, 2), (1, 2)),
        "combined": ((4, 4), (2, 2), (2, 2), (1, 1), (2, 2), (1, 2)),
    }
    for mode, numbers in expected.items():
        accuracy, labels = report["modes"][mode]["animalVsBlank"], report["modes"][mode]["label"]
        got = [accuracy["all"], accuracy["animalFrames"], accuracy["blankFrames"], accuracy["ir"]]
        got += [labels["rightAtItsRank"], labels["rightAtFamilyOrDeeper"]]
        assert tuple((e["count"], e["of"]) for e in got) == numbers, mode
    per_burst = report["perBurst"]
    assert per_burst["crop"]["blankBurstsWithAFrameNotBlank"]["count"] == 1
    assert per_burst["combined"]["blankBurstsWithAFrameNotBlank"]["count"] == 0
    assert per_burst["event"]["animalBurstsRightAtItsRank"]["count"] == 1
    assert per_burst["event"]["blankBurstsNotBlank"]["count"] == 0
    assert report["cost"]["msPerImage"]["localiseMs"] == 2 and report["cost"]["cropsPerFrame"] == 0.75
    assert report["labelExcluded"] == {"species": [], "bursts": 0, "animalFrames": 0}


def test_bootstrap_intervals_resample_whole_bursts() -> None:
    groups = np.array([0, 0, 0, 1, 1, 1])
    boot = burst_eval.Bootstrap(groups, 2)
    assert boot.share(np.ones(6), np.ones(6))["ci95"] == [1.0, 1.0]
    entry = boot.share(np.array([1.0, 1, 1, 0, 0, 0]), np.ones(6))
    assert entry["value"] == 0.5 and entry["ci95"] == [0.0, 1.0]  # two bursts: all of one or the other
    assert boot.share(np.zeros(6), np.zeros(6))["value"] is None


def knows_bursts() -> bool:
    if not TRAPLINE.exists():
        return False
    # An unknown subcommand with --help prints the root help and exits 0, so look for the command's own usage.
    result = subprocess.run([str(TRAPLINE), "bursts", "--help"], capture_output=True, text=True, check=False)
    return result.returncode == 0 and "trapline bursts" in result.stdout


@needs_stamps
@pytest.mark.skipif(not knows_bursts(), reason=f"{TRAPLINE} is not built or has no `bursts` subcommand")
def test_the_evaluation_runs_the_real_binary_end_to_end(tmp_path: Path) -> None:
    data, out = tmp_path / "data", tmp_path / "report"
    manifest = bursts.build(data, seed=0, animal=2, blank=1, size=(320, 240), frames=(3, 3), log=False)
    argv = ["--trapline", str(TRAPLINE), "--model", str(MODEL_FILE), "--data", str(data), "--out", str(out)]
    assert burst_eval.main([*argv, "--chunk", "2"]) == 0
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["frames"]["labeled"] + report["frames"]["failed"] == 9
    assert report["bursts"] == manifest["counts"]
    assert (out / "table.md").exists() and (out / "recall_iou.png").exists() and (out / "accuracy.png").exists()


def test_a_replayed_burst_is_known_only_as_far_as_it_has_arrived() -> None:
    from trapline_training.burst_arrivals import batch_closes, replay

    # Four frames one second apart, batches of 2 closing after at most 1.5 s of waiting.
    assert batch_closes([0.0, 1.0, 2.0, 3.0], size=2, wait=1.5) == [1.0, 1.0, 3.0, 3.0]
    rows = [{"datetime": f"2020-01-08 08:00:0{k}+00:00", "seq_id": "s"} for k in range(4)]
    rows.append({"datetime": "2020-01-08 09:00:00+00:00", "seq_id": "alone"})
    result = replay(rows, size=2, wait=1.5)
    # Frames 0 and 1 close with two frames on disk, frames 2 and 3 with all four; the lone frame is not counted.
    assert result["frames"] == 4 and result["sequences"] == 1
    assert result["wholeSequenceArrived"] == 0.5 and result["atLeastThreeArrived"] == 0.5
