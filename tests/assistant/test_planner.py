"""The action set, slot reader, catalog vocabulary, learned planner and executor (fast: n-gram features,
fake keyword searcher over the real demo products)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from assistant import actions as act
from assistant.mentions import ProductNames
from assistant.planner import UTTERANCES_FILE, IntentClassifier, Planner, load_utterances, ngram_encoder
from assistant.reviews import review_summary
from assistant.session import Assistant
from assistant.slots import SlotReader, lexicon_phrases
from assistant.state import ConversationState
from assistant.vocab import Vocabulary, kind_words
from retrieval.catalog import Product, Review
from retrieval.query import parse_query
from shopassist.settings import PROJECT_ROOT
from tests.assistant.conftest import FakeSearcher

GROCERY = PROJECT_ROOT.parent / "shared" / "data" / "grocery" / "catalog.jsonl"


@pytest.fixture(scope="module")
def reader(products: list[Product]) -> SlotReader:
    vocab = Vocabulary.build(products, [u.text for u in load_utterances()], known=lexicon_phrases())
    return SlotReader(
        vocab, lambda text: parse_query(text, vocab.colors, vocab.categories), names=ProductNames(products)
    )


def test_utterance_file_covers_every_planned_action() -> None:
    utterances = load_utterances()
    labels = Counter(part for u in utterances for part in u.label.split("+"))
    planned = set(act.ACTION_NAMES) - {"relax", "photo", "clarify"}  # chosen by the executor / the photo
    assert len(utterances) >= 300 and planned <= set(labels) | {"refine"}
    assert all(n >= 8 for n in labels.values())
    assert any("+" in u.label for u in utterances)
    rows = [json.loads(line) for line in UTTERANCES_FILE.read_text().splitlines()]
    assert all(set(r) == {"text", "actions"} for r in rows)


def test_spelling_is_corrected_against_the_catalog(reader: SlotReader) -> None:
    assert reader.vocab.correct("waterprof jaket") == "waterproof jacket"
    assert reader.vocab.correct("is it true to size?") == "is it true to size?"


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("tennis racket", "tennis racket"),  # an English word is not a typo of "jacket"
        ("clear all filters", "clear all filters"),  # nor "fillers"
        ("what payment methods do you accept?", "what payment methods do you accept?"),
        ("a lot cheaper", "a lot cheaper"),  # short English word kept: "a lot" is common English
        ("get rid of it", "get rid of it"),
        ("in blu", "in blue"),  # short English word corrected: "in blue" is far likelier
        ("les expensive", "less expensive"),
    ],
)
def test_real_english_words_are_not_corrected_into_catalog_words(
    reader: SlotReader, typed: str, read: str
) -> None:
    assert reader.vocab.correct(typed) == read


def test_the_kind_a_search_names_is_its_head_noun(reader: SlotReader) -> None:
    named = reader.vocab.kinds_named
    assert named("yoga strap") == {"strap"}  # not the yoga brick, which is yoga gear too
    assert named("bag for a yoga mat") == {"bag"}  # the head comes before the preposition
    assert named("light jacket for spring runs") == {"jacket"}
    assert named("something for yoga") == {"yoga"}  # no kind before 'for': the phrase goes on
    assert named("shorts and tees") == {"short", "tee"}  # each joined phrase has its own head
    assert named("which jackets are waterproof") == {"jacket"}  # the phrase ends at the verb
    assert named("warm for winter runs") == set()


def test_several_constraints_and_negation(reader: SlotReader) -> None:
    r = reader.read("men's shorts under $30 but not black")
    assert r.query == "shorts"
    wanted = act.SearchSlots(
        exclude_colors=("Black",), max_price=30.0, category="Men/Bottoms/Shorts", gender="Men"
    )
    assert r.slots == wanted
    assert reader.read("no hoods").slots.exclude_terms == ("hood",)


@pytest.mark.parametrize(
    ("text", "sort"),
    [
        ("what is the cheapest backpack you have?", "price_asc"),
        ("most expensive watch", "price_desc"),
        ("best rated yoga mat", "rating"),
        ("a backpack", "relevance"),
    ],
)
def test_sorting_superlatives(reader: SlotReader, text: str, sort: str) -> None:
    r = reader.read(text)
    assert r.slots.sort == sort and "backpack" not in r.query.replace("backpack", "") and r.query


def test_preferences_references_and_stock(reader: SlotReader) -> None:
    r = reader.read("I'm a size M and I don't like black")
    assert (r.preferences.size, r.preferences.disliked_colors) == ("M", ("Black",))
    assert reader.read("compare the first and the last one", shown=4).positions == (1, 4)
    assert reader.read("add the cheaper one to my shortlist").pick == "cheapest"
    assert reader.read("what are they made of?").plural
    stock = reader.read("is it in stock in M?")
    assert stock.asks_stock and stock.slots.sizes == ("M",)


@pytest.mark.skipif(not GROCERY.exists(), reason="shared grocery data not found")
def test_grocery_vocabulary_has_no_clothing_words() -> None:
    rows = [json.loads(line) for line in GROCERY.read_text().splitlines()]
    products = [
        Product(
            id=str(r["class_id"]),
            title=r["name"].replace("-", " "),
            description=r["description"],
            categories=[f"{r['group']}/{r['coarse_class']}"],
        )
        for r in rows
    ]
    vocab = Vocabulary.build(products)
    reader = SlotReader(vocab, lambda text: parse_query(text, vocab.colors, vocab.categories))
    r = reader.read("cheapest green aples")
    assert r.slots.sort == "price_asc" and r.slots.colors == () and r.query == "green apples"
    assert r.slots.category == "Apple" and vocab.is_type_word("juices") and not vocab.is_type_word("jacket")


# --- the learned planner -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def planner(reader: SlotReader) -> Planner:
    return Planner(IntentClassifier(ngram_encoder(), "ngram"), lambda: reader, 0.35)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("where is my order #10023?", "handoff"),
        ("what is your return policy?", "handoff"),
        ("start over", "reset"),
        ("what's in my shortlist?", "shortlist_show"),
        ("hello", "greet"),
        ("clear my shortlist", "shortlist_clear"),
        ("write me a poem", "decline"),
    ],
)
def test_planner_labels(planner: Planner, text: str, label: str) -> None:
    assert planner.plan(text, ConversationState()).label == label


def test_planner_builds_actions_with_slots(planner: Planner) -> None:
    shown = ConversationState(query="backpacks", shown_ids=("a", "b"), focus_ids=("a", "b"))
    plan = planner.plan("add the cheaper one to my shortlist", shown)
    assert plan.actions == (act.ShortlistAdd(ref=act.Reference(pick="cheapest")),)
    (compare,) = planner.plan("compare the items in my shortlist", shown).actions
    assert compare == act.Compare(source="shortlist")
    (refine,) = planner.plan("cheaper", shown).actions
    assert isinstance(refine, act.Refine) and refine.cheaper
    (search,) = planner.plan("under $40", ConversationState()).actions
    assert isinstance(search, act.Search) and search.slots.max_price == 40


def test_unsure_planner_asks(reader: SlotReader) -> None:
    unsure = Planner(IntentClassifier(ngram_encoder(), "ngram"), lambda: reader, 1.0)
    plan = unsure.plan("hmm the thing", ConversationState())
    assert [a.name for a in plan.actions] == ["clarify"] and len(plan.actions[0].options) == 2


def test_classifier_cache_is_keyed_by_file(tmp_path) -> None:
    a = IntentClassifier(ngram_encoder(), "ngram-test", tmp_path)
    assert a.model is not None and list(tmp_path.glob("intents-*.pkl"))
    changed = tmp_path / "utterances.jsonl"
    extra = json.dumps({"text": "yo yo", "actions": ["greet"]})
    changed.write_text(UTTERANCES_FILE.read_text() + extra + "\n")
    assert IntentClassifier(ngram_encoder(), "ngram-test", tmp_path, changed)._key() != a._key()


# --- the executor through the assistant -----------------------------------------------------------------
def converse(assistant: Assistant, *messages: str):
    state = ConversationState()
    replies = []
    for m in messages:
        reply, state = assistant.respond(m, state=state)
        replies.append(reply)
    return replies, state


def test_hand_off_cites_nothing(assistant: Assistant, fake_searcher: FakeSearcher) -> None:
    (reply,), _ = converse(assistant, "where is my order #10023?")
    assert reply.actions == ("handoff",) and reply.cited_ids == () and reply.cards == ()
    assert "customer service" in reply.text and fake_searcher.requests == []


def test_shortlist_flow(assistant: Assistant) -> None:
    replies, state = converse(
        assistant,
        "show me hoodies",
        "add the first one to my shortlist",
        "add the second one to my shortlist",
        "what's in my shortlist?",
    )
    first, second = (c.product_id for c in replies[0].cards[:2])
    assert state.shortlist == (first, second)
    assert [c.product_id for c in replies[-1].cards] == [first, second]
    removed, state = assistant.respond("remove the first one from my shortlist", state=state)
    assert removed.actions == ("shortlist_remove",) and state.shortlist == (second,)
    cleared, state = assistant.respond("clear my shortlist", state=state)
    assert cleared.actions == ("shortlist_clear",) and state.shortlist == ()


def test_ui_buttons_run_the_same_actions(assistant: Assistant) -> None:
    (found,), state = converse(assistant, "show me hoodies")
    pid = found.cards[1].product_id
    reply, state = assistant.run([act.ShortlistAdd(ref=act.Reference(product_ids=(pid,)))], state)
    assert reply.actions == ("shortlist_add",) and state.shortlist == (pid,)
    reply, state = assistant.run([act.Reset()], state)
    assert reply.actions == ("reset",)
    assert state.shortlist == (pid,) and state.query == ""  # "clear all filters" never loses the shortlist
    assert reply.text.endswith('Your shortlist (1 item) is kept; say "clear my shortlist" to empty it.')


def test_reset_then_search_in_one_message(assistant: Assistant) -> None:
    (_, reply), state = converse(assistant, "show me hoodies", "start over and show me backpacks")
    assert reply.actions == ("reset", "search") and state.query == "backpacks"


def test_review_summary_counts_and_cites(products: list[Product]) -> None:
    product = next(p for p in products if p.id == "MJ04")
    text, facts = review_summary(product)
    ratings = [r.rating for r in product.reviews]
    assert f"{len(ratings)} reviews, average rating {sum(ratings) / len(ratings):.1f}/5" in text
    assert facts and all(f.source == "review" and f"[{product.id}]" in text for f in facts)
    assert review_summary(product.model_copy(update={"reviews": []}))[1] == ()


def test_review_summary_quotes_mixed_reviews(products: list[Product]) -> None:
    # three 3-star reviews used to give "No positive reviews. No critical reviews." and nothing quoted
    mixed = [Review(rating=3, title="Rain proof?", text="It says waterproof but mine got pretty soaked!")] * 3
    product = next(p for p in products if p.id == "MJ04").model_copy(update={"reviews": mixed})
    text, facts = review_summary(product)
    assert 'Most representative mixed review: "It says waterproof but mine got pretty soaked!" [MJ04]' in text
    assert "No positive reviews." in text and "No critical reviews." in text and "Rain proof" not in text
    assert [f.text for f in facts] == ["It says waterproof but mine got pretty soaked!"]


def test_stock_answer_uses_stock_data_only(assistant: Assistant, fake_searcher: FakeSearcher) -> None:
    (found,), state = converse(assistant, "show me hoodies")
    reply, _ = assistant.respond("is it in stock?", state=state)
    assert reply.actions == ("ask",) and "no stock data" in reply.text
    pid = found.cards[0].product_id
    stocked = fake_searcher.store.products[pid].model_copy(update={"stock": 3})
    fake_searcher.store.products[pid] = stocked
    reply, _ = assistant.respond("is it in stock?", state=state)
    assert "lists 3 in stock" in reply.text


def test_ui_shortlist_and_chat_shortlist_are_one(assistant: Assistant) -> None:
    from ui.state import ShopperSession

    found, state = assistant.respond("show me hoodies")
    first, second = (c.product_id for c in found.cards[:2])
    session = ShopperSession().after_reply(found, state).add_to_shortlist((first,))
    assert session.conversation.shortlist == (first,)
    reply, state = assistant.respond("add the second one to my shortlist", state=session.conversation)
    session = session.after_reply(reply, state)
    assert [c.product_id for c in session.shortlist] == [first, second]
    shown, _ = assistant.respond("what's in my shortlist?", state=session.conversation)
    assert [c.product_id for c in shown.cards] == [first, second]
    assert session.clear_shortlist().conversation.shortlist == ()


class _AlwaysAsks:
    """A classifier stub that reads every message as a question about a product."""

    def predict(self, text: str) -> list[tuple[str, float]]:
        return [("ask", 0.9), ("search", 0.1)]


def test_a_question_naming_a_kind_not_on_screen_is_a_search(reader: SlotReader, products) -> None:
    kinds = {p.id: kind_words(p) for p in products}
    planner = Planner(_AlwaysAsks(), lambda: reader, 0.35, lambda ids: set().union(*(kinds[i] for i in ids)))
    jacket = next(p for p in products if any(c.endswith("Jackets") for c in p.categories))
    shown = ConversationState(query="jackets", shown_ids=(jacket.id,), focus_ids=(jacket.id,))
    assert isinstance(planner.plan("is it waterproof?", shown).actions[0], act.Ask)
    assert isinstance(planner.plan("is it good for running?", shown).actions[0], act.Ask)
    assert isinstance(planner.plan("which jackets are waterproof?", shown).actions[0], act.Ask)
    (other,) = planner.plan("which backpacks are waterproof?", shown).actions
    assert isinstance(other, act.Search) and "backpack" in other.query
    (cheapest,) = planner.plan("what is the cheapest backpack?", ConversationState()).actions
    assert isinstance(cheapest, act.Search) and cheapest.slots.sort == "price_asc"
