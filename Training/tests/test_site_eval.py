from __future__ import annotations

from pathlib import Path

import pytest

from trapline_training import camtrap, label_eval, site_eval, site_frames, site_report

# A head file's classes as `trapline learn` writes them (WordNet's lineages, nearest ancestor first).
CLASSES = [
    {"name": "Cervidae", "scientificName": "Cervidae", "taxonRank": "family",
     "lineage": ["Ruminantia", "Artiodactyla", "Mammalia", "Chordata", "Animalia"]},
    {"name": "Equus asinus", "scientificName": "Equus asinus", "taxonRank": "species",
     "lineage": ["Equus", "Equidae", "Perissodactyla", "Mammalia", "Chordata", "Animalia"]},
    {"name": "blank", "lineage": []},
]  # fmt: skip
# A slice of the model's taxonomy: a name to its lineage (itself first).
MODEL = {
    "Cervus elaphus": ["Cervus elaphus", "Cervus", "Cervidae", "Artiodactyla", "Mammalia", "Chordata", "Animalia"],
    "Artiodactyla": ["Artiodactyla", "Mammalia", "Chordata", "Animalia"],
    "Equus": ["Equus", "Equidae", "Perissodactyla", "Mammalia", "Chordata", "Animalia"],
    "Equus caballus": ["Equus caballus", "Equus", "Equidae", "Perissodactyla", "Mammalia", "Chordata", "Animalia"],
    "Bovidae": ["Bovidae", "Artiodactyla", "Mammalia", "Chordata", "Animalia"],
}


def result(observation: str, name: str | None = None, head: str = "model") -> dict:
    label = {"scientificName": name} if name else {}
    return {"observationType": observation, "label": label, "head": head, "ok": True}


def judge(r: dict, truth: str) -> str:
    return site_eval.verdict(r, truth, label_eval.class_lineages(CLASSES), lambda n: MODEL.get(n, [n]))


@pytest.mark.parametrize(
    ("written", "truth", "expected"),
    [
        (result("animal", "Cervidae", "site"), "Cervidae", "right"),
        (result("animal", "Equus asinus", "site"), "Cervidae", "wrong"),
        (result("animal", "Cervus elaphus"), "Cervidae", "right"),  # below the truth
        (result("animal", "Artiodactyla"), "Cervidae", "ancestor"),
        (result("animal", "Bovidae"), "Cervidae", "wrong"),  # a sibling of the truth
        (result("animal", "Equus"), "Equus asinus", "ancestor"),
        (result("animal", "Equus caballus"), "Equus asinus", "wrong"),
        (result("animal", "Animalia"), "Equus asinus", "ancestor"),
        (result("animal"), "Cervidae", "wrong"),  # `animal`: no taxon at all
        (result("blank"), "Cervidae", "wrong"),
        (result("human"), "Equus asinus", "wrong"),
        (result("blank", head="site"), "blank", "right"),
        (result("animal", "Cervidae", "site"), "blank", "wrong"),
    ],
)
def test_a_written_label_is_right_at_the_class_or_below_and_an_ancestor_only_at_its_rank(
    written: dict, truth: str, expected: str
) -> None:
    assert judge(written, truth) == expected


def test_the_site_head_places_its_own_classes_by_the_head_files_lineage() -> None:
    # The model's taxonomy lacks Cervidae: a site-written Cervidae is placed by the head file, not the model.
    assert judge(result("animal", "Cervidae", "site"), "Cervidae") == "right"
    assert judge(result("animal", "Cervidae", "model"), "Cervidae") == "right"
    assert site_eval.truth_of(CLASSES) == {"Cervidae": "Cervidae", "Equus asinus": "Equus asinus", "blank": "blank"}


def test_the_summary_counts_right_and_right_at_its_rank_apart() -> None:
    rows = [
        ("Cervidae", "right", "Cervidae"),
        ("Cervidae", "ancestor", "Artiodactyla"),
        ("Cervidae", "wrong", "blank"),
        ("blank", "right", "blank"),
    ]
    summary = site_eval.summarise(rows)
    deer = summary["classes"]["Cervidae"]
    assert (deer["right"]["count"], deer["rightAtItsRank"]["count"], deer["right"]["of"]) == (1, 2, 3)
    assert deer["right"]["ci95"] == label_eval.wilson(1, 3)
    assert summary["overall"]["right"]["count"] == 2 and summary["overall"]["written"]["blank"] == 2


def test_the_plan_balances_stamps_and_holds_other_stamps_out() -> None:
    items = site_frames.plan(per_class=4, test_per_class=3)
    train = [i for i in items if i.set == "train"]
    assert len(train) == 4 * len(site_frames.TRAIN_STAMPS)
    assert [i.stamp for i in train if i.name == "Cervidae"] == ["deer", "wapiti", "deer", "wapiti"]
    assert all(i.stamp is None for i in items if i.name == "blank")
    other = {i.stamp for i in items if i.set == "held-out-stamps"}
    assert other == {"doe", "caribou", "donkey_eating"}
    assert not other & {s for stamps in site_frames.TRAIN_STAMPS.values() for s in stamps}
    assert len({i.file for i in items}) == len(items)


@pytest.mark.skipif(not camtrap.STAMPS.is_dir(), reason="needs Debian's tuxpaint-stamps-default")
def test_building_is_deterministic_from_the_seed_and_keeps_backgrounds_apart(tmp_path: Path) -> None:
    frames = site_frames.build(tmp_path / "a", seed=3, per_class=1, test_per_class=1)
    again = site_frames.build(tmp_path / "b", seed=3, per_class=1, test_per_class=1)
    assert frames == again
    for frame in frames:
        assert (tmp_path / "a" / frame["file"]).read_bytes() == (tmp_path / "b" / frame["file"]).read_bytes()
        backgrounds = camtrap.TRAIN_BACKGROUNDS if frame["set"] == "train" else camtrap.EVAL_BACKGROUNDS
        assert frame["background"] in backgrounds
        assert (frame["stamp"] is None) == (frame["name"] == "blank")
    other = site_frames.build(tmp_path / "c", seed=4, per_class=1, test_per_class=1)
    assert [f["file"] for f in other] == [f["file"] for f in frames]
    assert all((tmp_path / "c" / f["file"]).read_bytes() != (tmp_path / "a" / f["file"]).read_bytes() for f in other)


def test_label_eval_places_a_site_heads_taxon_by_the_head_files_lineage() -> None:
    animalia = {"name": "Animalia", "rank": "kingdom", "parent": None}
    taxonomy = {"taxa": [animalia, {"name": "Equus", "rank": "genus", "parent": 0}]}
    truth = {"Equus": ["Equus", "Animalia"]}
    photo = {"scientificName": "Equus"}
    assert not label_eval.Scorer(taxonomy, truth).right("Equus asinus", photo)  # unknown to the model's taxonomy
    with_head = label_eval.Scorer(taxonomy, truth, label_eval.class_lineages(CLASSES))
    assert with_head.right("Equus asinus", photo)  # below the truth
    assert with_head.lineage("Equus") == ["Equus", "Animalia"]  # the model's own taxa as before


def test_real_photos_split_into_the_heads_taxa_and_other_animals() -> None:
    photos = [
        {"path": "deer.png", "type": "animal", "scientificName": "Odocoileus virginianus"},
        {"path": "doe.png", "type": "animal", "scientificName": "Cervidae"},
        {"path": "horse.png", "type": "animal", "scientificName": "Equus caballus"},
        {"path": "person.jpg", "type": "human", "scientificName": None},
    ]
    truth = {
        "Odocoileus virginianus": ["Odocoileus virginianus", "Odocoileus", "Cervidae", "Artiodactyla"],
        "Cervidae": ["Cervidae", "Artiodactyla"],
        "Equus caballus": ["Equus caballus", "Equus", "Equidae", "Perissodactyla"],
    }
    head_taxa = set(label_eval.class_lineages(CLASSES))
    subsets = site_eval.photo_subsets(photos, truth, head_taxa, trained={"deer.png"})
    assert subsets == {"all": [0, 1, 2, 3], "headTaxa": [0, 1], "headTaxaUnseen": [1], "otherAnimals": [2]}


@pytest.mark.parametrize(
    ("without", "with_head", "expected"),
    [
        (False, True, "made right"),
        (True, False, "made wrong"),
        (True, True, "right both ways"),
        (False, False, "wrong both ways"),
    ],
)
def test_a_changed_label_is_told_by_its_outcome(without: bool, with_head: bool, expected: str) -> None:
    assert site_report.outcome(without, with_head) == expected


def test_a_ceiling_leaves_the_models_confident_specific_labels_standing() -> None:
    from trapline_training.site_ceiling import written

    lineages = {"Cervidae": ["Artiodactyla", "Mammalia"]}
    image = {
        "head": "site",
        "observationType": "animal",
        "label": {"scientificName": "Cervidae"},
        "model": {
            "observationType": "animal",
            "label": {"scientificName": "Vulpes", "taxonRank": "genus", "probability": 0.7},
        },
    }
    assert written(image, 0.6, lineages) == ("animal", "Vulpes")
    assert written(image, 0.8, lineages) == ("animal", "Cervidae")
    # A taxon above the site's class is refined, however sure the model is; a coarse one never stands.
    image["model"]["label"] = {"scientificName": "Artiodactyla", "taxonRank": "order", "probability": 0.95}
    assert written(image, 0.6, lineages) == ("animal", "Cervidae")
    image["model"]["label"] = {"scientificName": "Animalia", "taxonRank": "kingdom", "probability": 0.95}
    assert written(image, 0.6, lineages) == ("animal", "Cervidae")
    # A label the model wrote is reported as it is.
    assert written({"observationType": "blank", "label": {}}, 0.6, lineages) == ("blank", None)
