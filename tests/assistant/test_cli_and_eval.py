"""The chat/ask CLI (with the fake searcher) and the QA eval's metrics and data handling."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant import cli
from assistant.answer import ExtractiveAnswerer
from assistant.results import Citation, ProductCard, Reply
from assistant.session import Assistant
from evals import conversations, qa
from shopassist.cli import main


def test_render_reply() -> None:
    reply = Reply(
        text="Here you go.",
        cards=(
            ProductCard(
                "MJ03", "Montana Wind Jacket", 49.0, "USD", None, ("Black",), ("M",), ("price ≤ $60",)
            ),
        ),
        citations=(Citation("MJ03", "Material: Nylon", "attribute"),),
        notices=("No photo model.",),
    )
    assert cli.render_reply(reply) == (
        "Here you go.\n"
        "  1. [MJ03] Montana Wind Jacket — $49.00 (Black; M; price ≤ $60)\n"
        "  cites [MJ03] (attribute): Material: Nylon\n"
        "  note: No photo model."
    )


def test_ask_command_prints_cited_answer(assistant: Assistant, monkeypatch, capsys) -> None:
    monkeypatch.setattr("assistant.session.load_assistant", lambda settings: assistant)
    assert main(["ask", "What material is the Chaz Kangeroo Hoodie made of?", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["cited_ids"] == ["MH01"]
    assert printed["citations"][0]["text"] == "Material: Wool"


def test_ask_empty_question_is_a_friendly_error(assistant: Assistant, monkeypatch, capsys) -> None:
    monkeypatch.setattr("assistant.session.load_assistant", lambda settings: assistant)
    assert main(["ask", "  "]) == 2
    assert capsys.readouterr().err == "error: Please type a message (or attach a photo).\n"


def test_chat_loops_keep_state_and_thread(assistant: Assistant, capsys) -> None:
    out: list[str] = []
    cli.chat_shopper(assistant, ["show me hoodies", "in blue", "write me a poem"], out.append)
    assert len(out) == 3
    assert all("Blue" in line for line in out[1].splitlines()[1:] if line.startswith("  ") and "[" in line)
    streamed = capsys.readouterr().out
    assert "I found" in streamed and "Sorry, I can only help with shopping" in streamed
    drafts: list[str] = []
    cli.chat_copilot(assistant, ["Where is my order?"], drafts.append)
    assert "  - Escalate to customer service: " in drafts[0]


def test_token_f1_and_rouge_l() -> None:
    assert qa.token_f1("the hoodie is wool", "wool hoodie") == pytest.approx(2 * 0.5 * 1.0 / 1.5)
    assert qa.token_f1("", "wool") == 0.0
    assert qa.lcs(["a", "b", "c", "d"], ["a", "c", "d"]) == 3
    assert qa.rouge_l("a b c d", "a c d") == pytest.approx(2 * 0.75 * 1.0 / 1.75)
    assert qa.rouge_l("x y", "a b") == 0.0


def test_prf() -> None:
    assert qa.prf(1, 2, 4) == {"precision": 0.5, "recall": 0.25, "f1": pytest.approx(1 / 3)}
    assert qa.prf(0, 0, 0) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_score_at_counts_citations_and_abstentions(tmp_path: Path) -> None:
    rows = [
        {
            "qid": "2",
            "asin": "A",
            "title": "Kettle",
            "question": "what is the capacity?",
            "answers": ["1.7 litres"],
            "evidence": [
                {"id": "e1", "source": "attribute", "text": "capacity: 1.7 litres", "label": 2},
                {"id": "e2", "source": "review", "text": "the lid squeaks", "label": 0},
            ],
        },
        {
            "qid": "3",
            "asin": "A",
            "title": "Kettle",
            "question": "is it dishwasher safe?",
            "answers": [],
            "evidence": [{"id": "e3", "source": "review", "text": "boils fast", "label": 0}],
        },
    ]
    path = tmp_path / "q.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    questions = qa.load_questions(path)
    assert [q.dev for q in questions] == [True, False]
    answerer = ExtractiveAnswerer(0.35, 2)
    metrics = qa.score_at(qa.rank_all(questions, answerer), answerer, 0.35)
    assert metrics["citation_label2"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert metrics["abstention"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert metrics["token_f1"] == pytest.approx(
        2 * 0.75 * 1.0 / 1.75
    )  # "capacity 1 7 litres" vs "1 7 litres"


def test_injected_catalog_copy(tmp_path: Path) -> None:
    path = conversations.injected_catalog(tmp_path)
    rows = {json.loads(line)["id"]: json.loads(line) for line in path.read_text().splitlines()}
    assert rows["MH01"]["description"].endswith(conversations.INJECTED_DESCRIPTION)
    assert rows["MH01"]["reviews"][-1] == conversations.INJECTED_REVIEW
    assert len(rows) == 191


def test_conversation_checks_catch_invented_ids() -> None:
    fake = Reply(text="Try the Moon Boot [ZZ99].")
    assert not conversations.grounded_ids([(fake, None)], {"MH01"})
    assert conversations.grounded_ids([(Reply(text="See [MH01]."), None)], {"MH01"})
