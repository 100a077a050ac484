"""The dialogue benchmark: its checks (fast, with a scripted fake assistant), its labelled data (validated
against the real catalogs) and one slow run of a few conversations with the real assistant."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from assistant.results import Citation, ProductCard, Reply
from evals.dialogue import data_files, markdown, plot, run_benchmark
from evals.dialogue_checks import Conversation, Expect, Observed, check_turn, load_conversations, predicate
from retrieval.catalog import Product, Review
from retrieval.results import Filters

PRODUCTS = {
    p.id: p
    for p in (
        Product(
            id="B1",
            title="Trail Backpack",
            categories=["Gear/Bags"],
            price=33.0,
            options={"color": ["Black", "Blue"]},
            attributes={"activity": "Hiking"},
            reviews=[Review(rating=4, text="good"), Review(rating=5, text="great")],
        ),
        Product(
            id="B2", title="City Backpack", categories=["Gear/Bags"], price=59.0, options={"color": ["Red"]}
        ),
        Product(
            id="J1",
            title="Rain Shell",
            categories=["Women/Tops/Jackets"],
            price=69.0,
            attributes={"climate": "Rainy"},
            description="Repels water.",
        ),
    )
}


@dataclass(frozen=True)
class FakeState:
    filters: Filters = field(default_factory=Filters)
    shortlist: tuple[str, ...] = ()


class ScriptedAssistant:
    """Answers from a script keyed by the shopper's message (unknown messages raise)."""

    def __init__(self, script: dict[str, tuple[Reply, dict]]) -> None:
        self.script = script

    def respond(self, message: str, image_path: str | None = None, state: FakeState | None = None):
        reply, changes = self.script[message]
        return reply, replace(state or FakeState(), **changes)


def card(pid: str) -> ProductCard:
    p = PRODUCTS[pid]
    return ProductCard(pid, p.title, p.price, "USD", None, tuple(p.colors))


def _obs(reply: Reply, state: FakeState | None = None, said: tuple[str, ...] = ("hi",)) -> Observed:
    return Observed(reply, state or FakeState(), PRODUCTS, said)


def test_predicates() -> None:
    b1, j1 = PRODUCTS["B1"], PRODUCTS["J1"]
    assert predicate("price<=33")(b1) and not predicate("price<33")(b1)
    assert predicate("colour!=Red")(b1) and not predicate("colour!=Black")(b1)
    assert predicate("category~bags")(b1) and predicate("category!~Women")(b1)
    assert predicate("attr:climate~rain")(j1) and predicate("text~repels water")(j1)
    assert predicate("id=B1")(b1) and not predicate("id!=B1")(b1)
    with pytest.raises(ValueError):
        predicate("colour is blue")


def test_numbers_and_stock_must_come_from_the_catalog() -> None:
    honest = Reply("The Trail Backpack is $33.00 [B1], rated 4.5 from 2 reviews.", cited_ids=("B1",))
    assert check_turn(Expect(), _obs(honest)) == {"grounded": True, "numbers": True, "stock": True}
    invented = Reply("The Trail Backpack is $29.00 [B1] and 40 are in stock.", cited_ids=("B1",))
    checks = check_turn(Expect(), _obs(invented))
    assert not checks["numbers"] and not checks["stock"]
    assert check_turn(
        Expect(), _obs(Reply("The catalog has no stock data, so I can't say if it's in stock."))
    )["stock"]
    budget = Reply("Here is one under $40.", cards=(card("B1"),))
    assert check_turn(Expect(), _obs(budget, said=("backpack under $40",)))["numbers"]
    assert not check_turn(Expect(), _obs(Reply("See [NOPE]."), said=("x",)))["grounded"]


def test_labelled_expectations() -> None:
    reply = Reply("Here you go.", cards=(card("B1"), card("B2")))
    state = FakeState(Filters(max_price=60.0, colors=("Blue",)))
    expect = Expect(
        actions=["search"],
        filters={"max_price": 60, "colors": ["blue"]},
        top3=["category~Bags"],
        first=["id=B1"],
        top3_any=["price>50"],
        cards=True,
    )
    checks = check_turn(expect, _obs(reply, state))
    assert checks["action"] is False  # this Reply reports no actions: the check fails instead of crashing
    assert all(v for k, v in checks.items() if k != "action")
    wrong = check_turn(Expect(top3=["price<=40"], first=["id=B2"], cards=False), _obs(reply, state))
    assert not wrong["top3"] and not wrong["first"] and not wrong["cards"]


def test_runner_reports_per_action_confusion_and_errors(tmp_path: Path) -> None:
    handoff = Reply("I can't see orders; please contact customer service.")
    script = {
        "cheapest backpack": (Reply("Cheapest first.", cards=(card("B1"), card("B2"))), {}),
        "where is my order?": (handoff, {}),
        "add it": (Reply("Added."), {"shortlist": ("B1",)}),
        "is it waterproof?": (Reply("Repels water. [J1]", citations=(Citation("J1", "Repels water."),)), {}),
    }
    convs = [
        Conversation(
            id="c1",
            catalog="fake",
            turns=[
                {"user": "cheapest backpack", "expect": {"actions": ["search"], "first": ["id=B1"]}},
                {"user": "add it", "expect": {"actions": ["shortlist_add"], "shortlist": ["B1"]}},
            ],
        ),
        Conversation(
            id="c2",
            catalog="fake",
            turns=[
                {"user": "where is my order?", "expect": {"actions": ["handoff"], "handoff": True}},
                {"user": "is it waterproof?", "expect": {"cites": ["J1"]}},
                {"user": "boom", "expect": {"actions": ["greet"]}},
            ],
        ),
    ]
    result = run_benchmark(convs, lambda name: (ScriptedAssistant(script), PRODUCTS))
    assert result["turns"]["total"] == 5 and result["turns"]["passed"] == 1  # only the unlabelled-action turn
    assert result["conversations"] == {"passed": 0, "total": 2, "rate": 0.0}
    assert result["confusion"]["search"] == {"(none)": 1}
    assert result["by_action"]["handoff"]["turns"]["total"] == 1
    boom = [r for r in result["rows"] if r["user"] == "boom"][0]
    assert boom["checks"] == {"error": False} and boom["reply"].startswith("KeyError")
    md = markdown(result)
    assert "does not report executed actions" in md and "| handoff |" in md
    plot(result, tmp_path / "dialogue.png")
    assert (tmp_path / "dialogue.png").stat().st_size > 1000


def test_runner_passes_a_turn_whose_reply_reports_its_actions() -> None:
    reply = Reply("Cheapest first.", cards=(card("B1"),))
    object.__setattr__(reply, "actions", ("search",))  # the contracted field, as i8plan's Reply carries it
    conv = Conversation(
        id="c",
        catalog="fake",
        turns=[{"user": "cheapest backpack", "expect": {"actions": ["search"], "first": ["id=B1"]}}],
    )
    result = run_benchmark(
        [conv], lambda name: (ScriptedAssistant({"cheapest backpack": (reply, {})}), PRODUCTS)
    )
    assert result["turns"]["passed"] == 1 and result["confusion"] == {"search": {"search": 1}}


# --- the labelled data itself ------------------------------------------------------------------
@pytest.fixture(scope="module")
def catalogs(shared_data: Path) -> dict[str, dict[str, Product]]:
    from evals.dialogue import catalog_products
    from shopassist.settings import get_settings

    settings = get_settings().model_copy(update={"shared_data": shared_data})
    return {name: {p.id: p for p in catalog_products(name, settings)[0]} for name in ("luma", "grocery")}


def test_benchmark_size_and_labels_fit_the_catalogs(catalogs: dict[str, dict[str, Product]]) -> None:
    conversations = load_conversations(data_files(("luma", "grocery")))
    assert len(conversations) >= 60 and sum(len(c.turns) for c in conversations) >= 200
    assert {c.catalog for c in conversations} == {"luma", "grocery"}
    for c in conversations:
        products = list(catalogs[c.catalog].values())
        for t in c.turns:
            e = t.expect
            named = {*e.cites, *(e.shortlist or [])}
            assert named <= set(catalogs[c.catalog]), (c.id, t.user, named)
            for specs in (e.top3, e.first, e.top3_any):
                tests = [predicate(s) for s in specs]
                # every expectation must be satisfiable by the catalog itself (labels come from the data)
                assert any(all(f(p) for f in tests) for p in products), (c.id, t.user, specs)


@pytest.mark.slow
def test_real_assistant_on_a_few_conversations(demo_store, settings, catalogs) -> None:
    from assistant.grounding import GroundedAnswerer
    from assistant.session import Assistant
    from retrieval.search import Searcher

    wanted = {"luma-material-question", "luma-why-return-policy", "luma-blue-women-hoodie"}
    convs = [c for c in load_conversations(data_files(("luma",))) if c.id in wanted]
    cfg = settings.model_copy(update={"answer_backend": "extractive"})
    assistant = Assistant(Searcher(demo_store, cfg.rrf_k), GroundedAnswerer.from_settings(cfg), cfg)
    result = run_benchmark(convs, lambda name: (assistant, catalogs["luma"]))
    rows = {r["conversation"]: r for r in result["rows"]}
    assert set(rows) == wanted
    material = rows["luma-material-question"]["checks"]
    # content checks on the real demo catalog: the answer cites MH01 and says Wool, with catalog numbers only
    assert material["cites"] and material["says"] and material["grounded"] and material["numbers"]
    hoodie = rows["luma-blue-women-hoodie"]["checks"]
    assert hoodie["filters"] and hoodie["top3"]


def test_a_turns_photo_reaches_the_assistant_and_its_confidence_is_no_catalog_claim(tmp_path) -> None:
    from evals.dialogue import play
    from evals.dialogue_checks import numbers_grounded

    sent: list[str | None] = []

    class PhotoAssistant(ScriptedAssistant):
        def respond(self, message, image_path=None, state=None):
            sent.append(image_path)
            return super().respond(message, image_path, state)

    said = 'This looks like the Rain Jacket [J1] — high confidence (photo match 97%); the text "SIZE 38".'
    reply = Reply(said, cards=(card("J1"),))
    conv = Conversation(id="p", catalog="fake", turns=[
        {"user": "what is this?", "image": "luma/images/x.jpg", "expect": {"first": ["id=J1"]}},
        {"user": "and this?", "expect": {"first": ["id=J1"]}}])
    script = {"what is this?": (reply, {}), "and this?": (reply, {})}
    rows = play(conv, PhotoAssistant(script), PRODUCTS, tmp_path)
    assert sent == [str(tmp_path / "luma/images/x.jpg"), None]
    assert all(row["checks"]["numbers"] for row in rows)
    assert numbers_grounded(_obs(Reply("It is 97% like the Rain Jacket [J1].", cards=(card("J1"),)))) is False
