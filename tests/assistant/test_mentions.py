"""Product names said in a message, found against the catalog's own titles (demo and grocery catalogs),
and the utterance file kept apart from the dialogue benchmark."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from assistant.mentions import ProductNames, head_word, masked
from assistant.planner import load_utterances
from retrieval.catalog import Product
from retrieval.grocery import iter_grocery
from shopassist.settings import PROJECT_ROOT

GROCERY = PROJECT_ROOT.parent / "shared" / "data" / "grocery"
BENCHMARK = PROJECT_ROOT / "evals" / "data"


@pytest.fixture(scope="module")
def grocery() -> list[Product]:
    if not GROCERY.is_dir():
        pytest.skip("shared grocery data not present")
    return list(iter_grocery(GROCERY))


def _found(names: ProductNames, text: str) -> list[str]:
    return [m.product_id for m in names.find(text)]


def test_whole_titles_are_found_longest_first(products: list[Product]) -> None:
    names = ProductNames(products)
    text = "compare the Chaz Kangeroo Hoodie and the teton pullover hoodies"
    assert _found(names, text) == ["MH01", "MH02"]
    assert masked(text, names.find(text)) == "compare the hoodie and the hoodie"
    assert _found(names, "show me the Nadia Elements Shell") == ["WJ10"]
    assert _found(names, "add the Joust Duffle Bag and the Overnight Duffle") == ["24-MB01", "24-WB07"]
    assert _found(names, "a hoodie for men") == []  # a kind is not a name


def test_grocery_names_heads_and_kinds(grocery: list[Product]) -> None:
    names = ProductNames(grocery)
    assert _found(names, "and the Lime too") == ["Lime"]
    assert _found(names, "do you have avocadoes?") == ["Avocado"]
    assert _found(names, "orange juice without pulp") == []  # a kind of juice, not the fruit "Orange"
    granny = next(p for p in grocery if p.id == "Granny-Smith")
    assert head_word(granny) == "apple"
    text = "something similar to the Cantaloupe"
    assert masked(text, names.find(text)) == "something similar to the melon"


def test_a_title_two_products_share_names_neither() -> None:
    twins = [Product(id=i, title="Trail Cap", categories=["Hats"]) for i in ("A", "B")]
    assert ProductNames(twins).find("the trail cap please") == []


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", text.lower()).strip()


def test_no_benchmark_turn_is_in_the_training_utterances() -> None:
    """The dialogue benchmark stays held out: none of its messages is a training utterance."""
    said = {
        _norm(turn["user"])
        for path in sorted(Path(BENCHMARK).glob("dialogue_*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
        for turn in json.loads(line)["turns"]
    }
    assert len(said) > 150
    assert not said & {_norm(u.text) for u in load_utterances()}
