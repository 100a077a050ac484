"""'Which one ...?' over the products shown: by price fields, else by each product's best cited fact."""

from __future__ import annotations

from assistant.answer import ExtractiveAnswerer
from assistant.choose import by_facts, by_price, positive_degree
from assistant.facts import product_facts
from retrieval.catalog import Product

BAGS = [
    Product(id="B1", title="Canvas Tote", description="A roomy canvas tote for the beach.", price=30.0),
    Product(id="B2", title="City Messenger", description="Made of full-grain leather.", price=55.0),
    Product(id="B3", title="Gym Sack", description="A light drawstring sack.", price=None),
]
APPLES = [
    Product(id="A1", title="Sharp Apple", description="A crisp apple with a clear acidity."),
    Product(id="A2", title="Honey Apple", description="The taste is mellow and sweet, good for desserts."),
]
ANSWERER = ExtractiveAnswerer(threshold=0.35, max_facts=2)


def test_price_questions_pick_by_the_price_field() -> None:
    cheapest = by_price(BAGS, dearest=False)
    assert cheapest is not None and [p.id for p in cheapest.products] == ["B1"]
    assert cheapest.text.startswith("Of the 3 shown, the Canvas Tote is the cheapest, at $30.00. [B1]")
    assert "1 of them have no listed price" in cheapest.text
    dearest = by_price(BAGS, dearest=True)
    assert dearest is not None and dearest.products[0].id == "B2" and dearest.facts[0].text == "Price: $55.00"
    assert by_price(BAGS[2:], dearest=False) is None  # no prices: nothing to decide by


def test_other_questions_pick_the_product_whose_fact_answers() -> None:
    leather = by_facts("which one is leather?", BAGS, ANSWERER)
    assert [p.id for p in leather.products] == ["B2"] and not leather.abstained
    assert "[B2]" in leather.text and leather.facts[0].product_id == "B2"
    none = by_facts("which one has a laptop sleeve?", BAGS, ANSWERER)
    assert none.abstained and none.products == () and none.text.startswith("I don't know")


def test_comparatives_are_read_in_the_base_form_the_facts_use() -> None:
    facts = [f for p in APPLES for f in product_facts(p)]
    assert positive_degree("which one is sweeter?", facts) == "which one is sweet?"
    assert positive_degree("the mellowest one", facts) == "the mellow one"
    assert positive_degree("which is bigger?", facts) == "which is bigger?"  # no fact says "big"
    assert [p.id for p in by_facts("which one is sweeter?", APPLES, ANSWERER).products] == ["A2"]
