"""The taxonomy derived from WordNet 3.0: classes checked by hand against /usr/share/wordnet/data.noun."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from trapline_training import modelfile
from trapline_training.convert import read_class_names
from trapline_training.taxonomy import Taxonomy, derive, lineage_names, read_wordnet, validate

from .conftest import MODEL_FILE


@pytest.fixture(scope="module")
def synsets():
    return read_wordnet()


@pytest.fixture(scope="module")
def document(synsets) -> dict[str, Any]:
    return derive(read_class_names(), synsets)


# Class index: (WordNet id, first lemma, type, [(name, rank) from the deepest taxon up to the class rank]).
# Each was read off data.noun by hand: the synset's lemmas, its `#m` (member of) links, and for the breeds
# and colours its `@` (hypernym) chain to the synset that holds the binomial.
BY_HAND = {
    235: (
        "n02106662",
        "German shepherd",
        "animal",  # -> shepherd dog -> working dog -> dog, domestic dog, Canis familiaris (#m genus Canis)
        [("Canis familiaris", "species"), ("Canis", "genus"), ("Canidae", "family"), ("Carnivora", "order")],
    ),
    277: ("n02119022", "red fox", "animal", [("Vulpes vulpes", "species"), ("Vulpes", "genus"), ("Canidae", "family")]),
    335: (
        "n02356798",
        "fox squirrel",
        "animal",
        [("Sciurus niger", "species"), ("Sciurus", "genus"), ("Sciuridae", "family")],
    ),
    342: (
        "n02396427",
        "wild boar",
        "animal",
        [("Sus scrofa", "species"), ("Sus", "genus"), ("Suidae", "family"), ("Artiodactyla", "order")],
    ),
    131: (
        "n02009229",
        "little blue heron",
        "animal",
        [("Egretta caerulea", "species"), ("Egretta", "genus"), ("Ardeidae", "family"), ("Ciconiiformes", "order")],
    ),
    22: (
        "n01614925",
        "bald eagle",
        "animal",
        [("Haliaeetus leucocephalus", "species"), ("Haliaeetus", "genus"), ("Accipitridae", "family")],
    ),
    # `zebra` has no binomial; it is a member of `genus Equus`.
    340: ("n02391049", "zebra", "animal", [("Equus", "genus"), ("Equidae", "family"), ("Perissodactyla", "order")]),
    # `sorrel` is a horse colour: -> horse, Equus caballus.
    339: ("n02389026", "sorrel", "animal", [("Equus caballus", "species"), ("Equus", "genus")]),
    # -> domestic cat, house cat, Felis domesticus, Felis catus: the later binomial is the current name.
    281: ("n02123045", "tabby", "animal", [("Felis catus", "species"), ("Felis", "genus"), ("Felidae", "family")]),
    # `timber wolf, ..., Canis lupus` has no #m link: the binomial's genus is used.
    269: (
        "n02114367",
        "timber wolf",
        "animal",
        [("Canis lupus", "species"), ("Canis", "genus"), ("Canidae", "family")],
    ),
    0: ("n01440764", "tench", "animal", [("Tinca tinca", "species"), ("Tinca", "genus"), ("Cyprinidae", "family")]),
    717: ("n03930630", "pickup", "vehicle", []),
    983: ("n10565667", "scuba diver", "human", []),
    # A plant: its taxa are kept, its type is unknown (not an animal, person or vehicle).
    985: ("n11939491", "daisy", "unknown", [("Bellis", "genus"), ("Compositae", "family")]),
}


@pytest.mark.parametrize("index", sorted(BY_HAND))
def test_classes_checked_by_hand(document, index):
    wordnet, vernacular, kind, lineage = BY_HAND[index]
    entry = document["classes"][index]
    assert (entry["wordnet"], entry["vernacular"], entry["type"]) == (wordnet, vernacular, kind)
    names = lineage_names(document, index)
    assert names[: len(lineage)] == lineage
    if kind == "animal":
        assert names[-1] == ("Animalia", "kingdom")


def test_a_name_shared_by_two_synsets_follows_imagenet_order(document):
    # `crane` is class 134 (the bird) and class 517 (the machine): ImageNet's order is WordNet offset order.
    names = read_class_names()
    assert names[134] == names[517] == "crane"
    assert document["classes"][134]["wordnet"] == "n02012849" and document["classes"][134]["type"] == "animal"
    assert document["classes"][517]["wordnet"] == "n03126707" and document["classes"][517]["type"] == "unknown"


def test_animals_are_the_first_398_classes_and_reach_the_kingdom(document):
    animals = [i for i, c in enumerate(document["classes"]) if c["type"] == "animal"]
    assert animals == list(range(398))
    assert all(lineage_names(document, i)[-1] == ("Animalia", "kingdom") for i in animals if lineage_names(document, i))
    species = sum(document["taxa"][document["classes"][i]["taxon"]]["rank"] == "species" for i in animals)
    assert species > 200  # measured: 242; a derivation that lost the binomials would fall far below


def test_the_model_file_carries_what_the_command_derives(document):
    meta = modelfile.read_metadata(MODEL_FILE)
    assert meta["taxonomy"] == document
    assert meta["classes"]["animalRanges"] == [[0, 397]]


def test_rank_comes_from_the_lemma_before_the_hypernym(synsets):
    taxonomy = Taxonomy(synsets)
    eutheria = next(s for s in synsets.values() if "subclass Eutheria" in s.lemmas)
    mammalia = next(s for s in synsets.values() if "class Mammalia" in s.lemmas)
    assert taxonomy.rank(eutheria) == "intermediate" and taxonomy.rank(mammalia) == "class"
    assert taxonomy.latin_name(next(s for s in synsets.values() if "class Amphibia" in s.lemmas)) == "Amphibia"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["classes"].pop(), "taxonomy has 999 classes"),
        (lambda d: d["taxa"][3].update(parent=500), "must come before it"),
        (lambda d: d["taxa"][3].update(rank="tribe"), "unknown rank"),
        (lambda d: d["taxa"][4].update(rank="kingdom"), "not above its own"),
        (lambda d: d["taxa"][5].update(name="Animalia"), "repeated name"),
        (lambda d: d["classes"][20].update(type="plant"), "unknown observation type"),
        (lambda d: d["classes"][20].update(taxon=100_000), "out of range"),
    ],
)
def test_validation_names_the_fault(document, change, message):
    broken = copy.deepcopy(document)
    change(broken)
    with pytest.raises(ValueError, match=message):
        validate(broken, 1000)
    validate(document, 1000)
