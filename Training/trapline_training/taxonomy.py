"""A taxonomy for the model's classes, derived from WordNet 3.0 (Debian `wordnet-base`).

ImageNet's classes are WordNet 3.0 noun synsets. For each class this finds the synset (by its lemmas, in
ImageNet's order, which is the order of WordNet offsets), then:

- the vernacular name: the synset's first lemma;
- the deepest taxon WordNet gives: a species where the synset, or its nearest hypernym that has one, lists a
  Latin binomial among its lemmas (`red fox, Vulpes vulpes`); otherwise the genus or family the nearest such
  synset is a member of (`zebra` is a member of `genus Equus`);
- the lineage above it, by member holonyms (`Vulpes` -> `Canidae` -> `Carnivora` -> ... -> `Animalia`), kept
  at the ranks Camtrap DP names (kingdom, phylum, class, order, family, genus, species);
- an observation type: `animal` under `animal, animate being`, `human` under `person`, `vehicle` under
  `vehicle`, `unknown` for everything else.

Where WordNet is silent the class has no taxon (rank missing): no name is invented. The result is written into
the model file's metadata as `taxonomy` (docs/model-file.md); the Swift loader validates it.

    python -m trapline_training.taxonomy --model Models/efficientnet-lite0.safetensors [--out taxonomy.json] [--dry-run]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

WORDNET = Path("/usr/share/wordnet")
SOURCE = "WordNet 3.0 (Princeton University, WordNet licence; Debian package wordnet-base)"

# Camtrap DP's ranks, deepest first; the walk up a lineage keeps only these.
RANKS = ("species", "genus", "family", "order", "class", "phylum", "kingdom")
# How WordNet names rank synsets (the first lemma of a hypernym of every taxon synset); `division` is the
# botanical phylum. Ranks in between (subfamily, suborder, superclass, ...) are walked through, not kept.
RANK_WORDS = {
    "genus": "genus",
    "family": "family",
    "order": "order",
    "class": "class",
    "phylum": "phylum",
    "division": "phylum",
    "kingdom": "kingdom",
}
INTERMEDIATE_RANK_WORDS = {
    "subgenus",
    "tribe",
    "subfamily",
    "superfamily",
    "suborder",
    "superorder",
    "infraorder",
    "subclass",
    "superclass",
    "subphylum",
    "superphylum",
    "subdivision",
    "subkingdom",
    "superkingdom",
}
TYPES = ("animal", "human", "vehicle", "unknown")
# Root synsets of the observation types (WordNet 3.0 noun offsets), checked by lemma when loaded.
TYPE_ROOTS = {
    "animal": (15388, "animal"),
    "human": (7846, "person"),
    "vehicle": (4524313, "vehicle"),
}
TAXON_ROOT = (7992450, "taxonomic group")
# How far up the hypernyms a class may look for a synset with taxonomic information (a Sealyham terrier
# is five steps below `dog, domestic dog, Canis familiaris`).
MAX_HYPERNYM_STEPS = 6

# Hand-checked corrections where WordNet's own data is ambiguous; each entry says why.
OVERRIDES: dict[str, dict[str, str]] = {}


@dataclass
class Synset:
    offset: int
    lexfile: str
    lemmas: list[str]
    pointers: list[tuple[str, int]] = field(default_factory=list)

    @property
    def wnid(self) -> str:
        return f"n{self.offset:08d}"

    def targets(self, *symbols: str) -> list[int]:
        return [offset for symbol, offset in self.pointers if symbol in symbols]


def read_wordnet(folder: Path = WORDNET) -> dict[int, Synset]:
    """The noun synsets of WordNet's `data.noun` (format: wndb(5WN)), by offset."""
    path = folder / "data.noun"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: install Debian's wordnet-base (apt-get install wordnet-base)")
    synsets: dict[int, Synset] = {}
    with path.open(encoding="latin-1") as f:
        for line in f:
            if line.startswith(" "):  # the licence header
                continue
            fields = line.split(" | ", 1)[0].split()
            offset, lexfile, count = int(fields[0]), fields[1], int(fields[3], 16)
            lemmas = [fields[4 + 2 * i].replace("_", " ") for i in range(count)]
            lemmas = [re.sub(r"\([a-z]+\)$", "", lemma) for lemma in lemmas]  # syntactic markers
            at = 4 + 2 * count
            pointer_count = int(fields[at])
            at += 1
            pointers = []
            for _ in range(pointer_count):
                symbol, target, pos = fields[at], int(fields[at + 1]), fields[at + 2]
                at += 4
                if pos == "n":
                    pointers.append((symbol, target))
            synsets[offset] = Synset(offset, lexfile, lemmas, pointers)
    return synsets


def match_classes(names: list[str], synsets: dict[int, Synset]) -> list[Synset]:
    """The synset of every class name (`"tench, Tinca tinca"` = the lemmas joined by `", "`).

    ImageNet orders its classes by WordNet id, so offsets must rise; a name that matches several synsets
    (`crane` the bird and the machine) takes the first one after the previous class.
    """
    by_lemmas: dict[str, list[int]] = {}
    for synset in synsets.values():
        by_lemmas.setdefault(", ".join(synset.lemmas), []).append(synset.offset)
    matched: list[Synset] = []
    previous = -1
    for index, name in enumerate(names):
        candidates = sorted(o for o in by_lemmas.get(name, []) if o > previous)
        if not candidates:
            raise ValueError(f"class {index} ({name!r}): no WordNet 3.0 noun synset with these lemmas after {previous}")
        previous = candidates[0]
        matched.append(synsets[previous])
    return matched


class Taxonomy:
    """Taxon synsets, their ranks and Latin names, and the lineage walk."""

    def __init__(self, synsets: dict[int, Synset]) -> None:
        self.synsets = synsets
        for offset, lemma in [TAXON_ROOT, *TYPE_ROOTS.values()]:
            if lemma not in synsets[offset].lemmas:
                raise ValueError(f"WordNet offset {offset} is not {lemma!r}: not WordNet 3.0?")
        self._rank: dict[int, str | None] = {}
        # Genera by Latin name and lexicographer file (05 animals, 20 plants: `Arenaria` is both a bird genus
        # and a plant genus).
        self.genera: dict[tuple[str, str], Synset] = {}
        for synset in synsets.values():
            if synset.lexfile in ("05", "20") and self.rank(synset) == "genus":
                self.genera.setdefault((self.latin_name(synset), synset.lexfile), synset)
        self.genus_names = {name for name, _ in self.genera}

    def hypernyms(self, synset: Synset) -> list[Synset]:
        return [self.synsets[o] for o in synset.targets("@", "@i")]

    def members(self, synset: Synset) -> list[Synset]:
        return [self.synsets[o] for o in synset.targets("%m")]

    @staticmethod
    def levels(start: Synset, step: Callable[[Synset], list[Synset]]) -> Iterator[list[Synset]]:
        """Breadth first from `start` along `step`: `[start]`, then each level of synsets not seen before."""
        level, seen = [start], {start.offset}
        while level:
            yield level
            following = []
            for synset in level:
                for other in step(synset):
                    if other.offset not in seen:
                        seen.add(other.offset)
                        following.append(other)
            level = following

    def ancestors(self, synset: Synset) -> set[int]:
        seen, stack = set(), [synset.offset]
        while stack:
            offset = stack.pop()
            if offset not in seen:
                seen.add(offset)
                stack.extend(self.synsets[offset].targets("@", "@i"))
        return seen

    def rank(self, synset: Synset) -> str | None:
        """`genus`, `family`, ... for a taxon synset, `intermediate` for ranks between those, else None."""
        if synset.offset not in self._rank:
            found: str | None = None
            # The lemmas say it first where they can (`subclass Eutheria` is not a class).
            for lemma in synset.lemmas:
                word = lemma.split()[0]
                if " " in lemma and word in RANK_WORDS:
                    found = RANK_WORDS[word]
                elif " " in lemma and word in INTERMEDIATE_RANK_WORDS:
                    found = "intermediate"
            for level in [] if found else islice(self.levels(synset, self.hypernyms), 1, None):
                for h in level:
                    word = h.lemmas[0]
                    if word in RANK_WORDS and TAXON_ROOT[0] in self.ancestors(h):
                        found = RANK_WORDS[word]
                    elif word in INTERMEDIATE_RANK_WORDS and found is None:
                        found = "intermediate"
                if found is not None:
                    break
            self._rank[synset.offset] = found
        return self._rank[synset.offset]

    @staticmethod
    def latin_name(synset: Synset) -> str:
        """`Vulpes` from `Vulpes, genus Vulpes`; `Oxalis` from `genus Oxalis`."""
        for lemma in synset.lemmas:
            if " " not in lemma and lemma[:1].isupper():
                return lemma
        for lemma in synset.lemmas:  # `amphibia, class Amphibia`
            words = lemma.split()
            if len(words) == 2 and words[0] in {*RANK_WORDS, *INTERMEDIATE_RANK_WORDS} and words[1][:1].isupper():
                return words[1]
        return ""

    def binomials(self, synset: Synset) -> list[str]:
        """Lemmas of the form `Genus species` whose first word is a genus WordNet knows."""
        return [
            lemma
            for lemma in synset.lemmas
            if re.fullmatch(r"[A-Z][a-z]+ [a-z][a-z-]+", lemma) and lemma.split()[0] in self.genus_names
        ]

    def taxon_holonym(self, synset: Synset) -> Synset | None:
        """The taxon this synset is a member of (`red fox` -> `genus Vulpes`), if WordNet says."""
        for offset in synset.targets("#m"):
            holonym = self.synsets[offset]
            if self.rank(holonym) is not None:
                return holonym
        return None

    def lineage(self, taxon: Synset) -> list[tuple[str, str, str]]:
        """(Latin name, rank, vernacular) from `taxon` up, at Camtrap DP's ranks only."""
        result: list[tuple[str, str, str]] = []
        seen: set[int] = set()
        current: Synset | None = taxon
        while current is not None and current.offset not in seen:
            seen.add(current.offset)
            rank = self.rank(current)
            name = self.latin_name(current)
            if rank in RANKS and name and (not result or RANKS.index(rank) > RANKS.index(result[-1][1])):
                result.append((name, rank, ""))
            current = self.taxon_holonym(current)
        return result

    def classify(self, synset: Synset) -> dict[str, Any]:
        """The class's vernacular name, observation type, and lineage (deepest taxon first)."""
        ancestors = self.ancestors(synset)
        kind = next((t for t, (offset, _) in TYPE_ROOTS.items() if offset in ancestors), "unknown")
        entry: dict[str, Any] = {"wordnet": synset.wnid, "vernacular": synset.lemmas[0], "type": kind, "lineage": []}
        # Every hypernym is a kind the class belongs to, so each one's taxon is right for the class; the most
        # specific wins (an `Italian greyhound` is a `racer`, an animal, and a `dog`, Canis familiaris), and
        # of equally specific ones the nearest.
        best: list[tuple[str, str, str]] = []
        for level in islice(self.levels(synset, self.hypernyms), MAX_HYPERNYM_STEPS + 1):
            for candidate in level:
                lineage = self.taxon_of(candidate)
                if lineage and (not best or RANKS.index(lineage[0][1]) < RANKS.index(best[0][1])):
                    best = lineage
        entry["lineage"] = self.complete(best, synset)
        return entry

    def complete(self, lineage: list[tuple[str, str, str]], synset: Synset) -> list[tuple[str, str, str]]:
        """Extends a lineage whose member links stop short of a kingdom (`Giraffidae` is a member of nothing)
        with the taxa of the synset's nearest hypernyms above its top rank: every hypernym is a kind the class
        belongs to (a giraffe is a `ruminant`, a member of `Ruminantia`, ..., a `mammal`, of `Mammalia`)."""
        result = list(lineage)
        while result and result[-1][1] != "kingdom":
            higher = self.taxa_above(synset, result[-1][1])
            if not higher:
                break
            result.extend(higher)
        return result

    def taxa_above(self, synset: Synset, rank: str) -> list[tuple[str, str, str]]:
        """The taxa above `rank` that the nearest hypernym of `synset` with any gives."""
        for level in islice(self.levels(synset, self.hypernyms), 1, None):
            for h in level:
                higher = [e for e in self.taxon_of(h) if RANKS.index(e[1]) > RANKS.index(rank)]
                if higher:
                    return higher
        return []

    def organism(self, taxon: Synset) -> Synset | None:
        """A member of a taxon that is not itself a taxon (`Giraffidae` -> `Giraffa` -> `giraffe`)."""
        for level in islice(self.levels(taxon, self.members), 1, None):
            for member in level:
                if self.rank(member) is None:
                    return member
        return None

    def lineage_of_name(self, name: str, rank: str) -> list[tuple[str, str, str]]:
        """The completed lineage of a taxon given by name and rank (a species by its binomial); empty when
        WordNet does not hold it."""
        for synset in self.synsets.values():
            if rank == "species" and name in synset.lemmas:
                lineage = self.taxon_of(synset)
                if not lineage:  # a binomial spelt outside the usual form (`Equus Burchelli`)
                    genus = self.genera.get((name.split()[0], synset.lexfile))
                    lineage = self.lineage(genus) if genus is not None else []
                return self.complete(lineage, synset)
            if rank != "species" and self.latin_name(synset) == name and self.rank(synset) == rank:
                member = self.organism(synset)
                return self.complete(self.lineage(synset), member) if member is not None else self.lineage(synset)
        return []

    def taxon_of(self, synset: Synset) -> list[tuple[str, str, str]]:
        """The lineage a synset gives directly: its binomial's, or that of the taxon it is a member of."""
        genus = self.taxon_holonym(synset)
        binomials = self.binomials(synset)
        if genus is not None:
            same_genus = [b for b in binomials if b.split()[0] == self.latin_name(genus)]
            binomials = same_genus or binomials
        elif binomials:
            # WordNet often omits the member link (`timber wolf, Canis lupus`): the binomial names its genus.
            genus = self.genera.get((binomials[-1].split()[0], synset.lexfile))
        above = self.lineage(genus) if genus is not None else []
        if binomials:
            # WordNet lists older synonyms first (`Felis domesticus, Felis catus`): the last is the current name.
            return [(binomials[-1], "species", synset.lemmas[0]), *above]
        return above


def rank_depth(key: tuple[str, str]) -> int:
    return RANKS.index(key[1])


def derive(names: list[str], synsets: dict[int, Synset]) -> dict[str, Any]:
    """The `taxonomy` metadata document for these class names (docs/model-file.md)."""
    taxonomy = Taxonomy(synsets)
    entries = [taxonomy.classify(s) for s in match_classes(names, synsets)]
    for entry in entries:
        override = OVERRIDES.get(entry["wordnet"])
        if override:
            raise NotImplementedError  # no override needed so far
    # The taxon table: every taxon once, parents before children, each with its parent's index.
    # A taxon reached by member links in one class and by a hypernym bridge in another may be given two
    # parents, both true ancestors; the more specific one is kept (the other is then above it).
    parents: dict[tuple[str, str], tuple[str, str] | None] = {}
    vernacular: dict[tuple[str, str], str] = {}
    for entry in entries:
        lineage = entry["lineage"]
        for i, (name, rank, common) in enumerate(lineage):
            key = (name, rank)
            parent = (lineage[i + 1][0], lineage[i + 1][1]) if i + 1 < len(lineage) else None
            known = parents.get(key)
            if key not in parents or (parent is not None and (known is None or rank_depth(parent) < rank_depth(known))):
                parents[key] = parent
            if common and key not in vernacular:
                vernacular[key] = common
    order = sorted(parents, key=lambda k: (-RANKS.index(k[1]), k[0]))
    names_seen = Counter(name for name, _ in order)
    duplicated = [name for name, n in names_seen.items() if n > 1]
    if duplicated:
        raise ValueError(f"scientific names used at two ranks: {duplicated}")
    index = {key: i for i, key in enumerate(order)}
    taxa = [
        {
            "name": name,
            "rank": rank,
            "vernacular": vernacular.get((name, rank), ""),
            "parent": index[parents[(name, rank)]] if parents[(name, rank)] else None,
        }
        for name, rank in order
    ]
    classes = [
        {
            "wordnet": e["wordnet"],
            "vernacular": e["vernacular"],
            "type": e["type"],
            "taxon": index[(e["lineage"][0][0], e["lineage"][0][1])] if e["lineage"] else None,
        }
        for e in entries
    ]
    return {"source": SOURCE, "ranks": list(RANKS), "taxa": taxa, "classes": classes}


def validate(document: dict[str, Any], class_count: int) -> None:
    """Checks a `taxonomy` document the way the Swift loader does; raises `ValueError` naming the fault."""
    taxa, classes = document.get("taxa"), document.get("classes")
    if not isinstance(taxa, list) or not isinstance(classes, list):
        raise ValueError("taxonomy needs `taxa` and `classes` lists")
    if len(classes) != class_count:
        raise ValueError(f"taxonomy has {len(classes)} classes, the model {class_count}")
    names = set()
    for i, taxon in enumerate(taxa):
        if not taxon.get("name") or taxon["name"] in names:
            raise ValueError(f"taxon {i}: missing or repeated name")
        names.add(taxon["name"])
        if taxon.get("rank") not in RANKS:
            raise ValueError(f"taxon {i} ({taxon['name']}): unknown rank {taxon.get('rank')!r}")
        parent = taxon.get("parent")
        if parent is not None:
            if not isinstance(parent, int) or not 0 <= parent < i:
                raise ValueError(f"taxon {i} ({taxon['name']}): parent {parent} must come before it")
            if RANKS.index(taxa[parent]["rank"]) <= RANKS.index(taxon["rank"]):
                raise ValueError(f"taxon {i} ({taxon['name']}): its parent's rank is not above its own")
    for i, entry in enumerate(classes):
        if entry.get("type") not in TYPES:
            raise ValueError(f"class {i}: unknown observation type {entry.get('type')!r}")
        taxon = entry.get("taxon")
        if taxon is not None and not (isinstance(taxon, int) and 0 <= taxon < len(taxa)):
            raise ValueError(f"class {i}: taxon {taxon} out of range")


def coverage(document: dict[str, Any]) -> dict[str, Any]:
    """How many classes of each type have a taxon, and at which rank."""
    taxa = document["taxa"]
    result: dict[str, Any] = {}
    for kind in TYPES:
        members = [c for c in document["classes"] if c["type"] == kind]
        ranks = Counter(taxa[c["taxon"]]["rank"] if c["taxon"] is not None else "none" for c in members)
        result[kind] = {"classes": len(members), "deepestRank": dict(ranks)}
    result["taxa"] = dict(Counter(t["rank"] for t in taxa))
    return result


def lineage_names(document: dict[str, Any], class_index: int) -> list[tuple[str, str]]:
    """(name, rank) of a class's taxon and every taxon above it."""
    taxa, result = document["taxa"], []
    at = document["classes"][class_index]["taxon"]
    while at is not None:
        result.append((taxa[at]["name"], taxa[at]["rank"]))
        at = taxa[at]["parent"]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="model file to write the taxonomy into (its class names are used)")
    parser.add_argument("--names", type=Path, help="instead of --model: a file of class names, one per line")
    parser.add_argument("--wordnet", type=Path, default=WORDNET, help="folder holding WordNet 3.0's data.noun")
    parser.add_argument("--out", type=Path, help="also write the taxonomy document as JSON here")
    parser.add_argument("--dry-run", action="store_true", help="derive and report, do not rewrite the model")
    args = parser.parse_args(argv)
    from . import modelfile

    if args.model is None and args.names is None:
        parser.error("give --model or --names")
    names = (
        args.names.read_text(encoding="utf-8").splitlines()
        if args.names
        else modelfile.read_metadata(args.model)["classes"]["names"]
    )
    try:
        document = derive(names, read_wordnet(args.wordnet))
    except (ValueError, FileNotFoundError) as error:
        print(f"taxonomy: {error}", file=sys.stderr)
        return 1
    validate(document, len(names))
    print(json.dumps(coverage(document), indent=1))
    if args.out:
        args.out.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    if args.model and not args.dry_run:
        modelfile.set_taxonomy(args.model, document)
        print(f"wrote the taxonomy of {len(names)} classes into {args.model}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
