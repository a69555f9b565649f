from __future__ import annotations

from pathlib import Path

import pytest

from trapline_training import camtrap, data

pytestmark = pytest.mark.skipif(
    not camtrap.STAMPS.is_dir(), reason="needs Debian's tuxpaint-stamps-default (scripts/setup.sh installs it)"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("camtrap")
    return out, camtrap.build(out, seed=7, counts={"train": 8, "eval": 6}, log=False)


def test_the_data_set_is_deterministic_from_its_seed(built: tuple[Path, dict], tmp_path: Path) -> None:
    out, manifest = built
    again = camtrap.build(tmp_path, seed=7, counts={"train": 8, "eval": 6}, log=False)
    assert again["frames"] == manifest["frames"]
    for frame in manifest["frames"]:
        assert (tmp_path / frame["file"]).read_bytes() == (out / frame["file"]).read_bytes()
    other = camtrap.Builder(8).render("train", 0)[0]
    assert other != (out / "train/00000.jpg").read_bytes()


def test_whole_species_and_backgrounds_are_held_out(built: tuple[Path, dict]) -> None:
    _, manifest = built
    assert not set(manifest["species"]["train"]) & set(manifest["species"]["eval"])
    assert not set(camtrap.TRAIN_BACKGROUNDS) & set(camtrap.EVAL_BACKGROUNDS)
    stamps = camtrap.split_stamps(camtrap.find_stamps())
    assert {s.taxon for s in stamps["eval"]} == set(camtrap.HELD_OUT_TAXA)
    assert not {s.taxon for s in stamps["train"]} & set(camtrap.HELD_OUT_TAXA)
    assert all("cartoon" not in s.path.parts for s in stamps["train"] + stamps["eval"])
    for frame in manifest["frames"]:
        assert frame["background"] in manifest["backgrounds"][frame["split"]]
        if frame["label"] == "animal":
            assert frame["species"] in manifest["species"][frame["split"]]
            assert 0 < frame["visible"] <= 1
        else:
            assert frame["species"] is None and frame["motionBlur"] == 0


def test_frames_cover_camera_trap_conditions() -> None:
    builder = camtrap.Builder(0)
    frames = [builder.render("train", k)[1] for k in range(40)]
    assert {f.label for f in frames} == {"animal", "blank"}
    assert any(f.night for f in frames) and any(not f.night for f in frames)
    assert any(f.motionBlur for f in frames) and any(f.lowLight for f in frames)
    assert len({f.jpegQuality for f in frames}) > 5


def test_the_loader_reads_a_split(built: tuple[Path, dict]) -> None:
    out, manifest = built
    held = data.camtrap(out, "eval")
    assert len(held) == 6 and held.classes == ["blank", "animal"] and held.animal == [False, True]
    assert list(held.is_animal()) == [f["label"] == "animal" for f in manifest["frames"] if f["split"] == "eval"]
    images = held.load([0, 1])
    assert images.shape == (2, 224, 224, 3) and images.dtype.name == "uint8"
