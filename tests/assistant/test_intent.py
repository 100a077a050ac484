"""Turn classification, positions and stated preferences (deterministic rules)."""

from __future__ import annotations

import pytest

from assistant.intent import Intent, classify, read_positions, read_preferences
from assistant.state import ConversationState, Preferences

COLORS = ("Black", "Blue", "Gray", "Red")
SHOWN = ConversationState(query="jacket", shown_ids=("A", "B", "C"), focus_ids=("A",))
EMPTY = ConversationState()


@pytest.mark.parametrize(
    ("text", "state", "image", "intent"),
    [
        ("hello!", EMPTY, None, Intent.GREETING),
        ("write me a poem", SHOWN, None, Intent.OUT_OF_SCOPE),
        ("what's the weather like tomorrow?", EMPTY, None, Intent.OUT_OF_SCOPE),
        ("I need a light jacket for spring runs, under $60", EMPTY, None, Intent.SEARCH),
        ("I need a light jacket for spring runs, under $60", SHOWN, None, Intent.SEARCH),
        ("in blue", SHOWN, None, Intent.REFINE),
        ("cheaper", SHOWN, None, Intent.REFINE),
        ("size M", SHOWN, None, Intent.REFINE),
        ("more like the second one", SHOWN, None, Intent.SIMILAR),
        ("compare the first two", SHOWN, None, Intent.COMPARE),
        ("show me more", SHOWN, None, Intent.MORE),
        ("is the second one waterproof?", SHOWN, None, Intent.QUESTION),
        ("what is it made of?", SHOWN, None, Intent.QUESTION),
        ("I don't like black", SHOWN, None, Intent.PREFERENCE),
        ("what is this?", EMPTY, "/tmp/x.jpg", Intent.PHOTO),
        ("a jacket for the weather in spring", EMPTY, None, Intent.SEARCH),
    ],
)
def test_classify(text: str, state: ConversationState, image: str | None, intent: Intent) -> None:
    assert classify(text, state, image, COLORS).intent == intent


def test_positions() -> None:
    assert read_positions("the second one", 3) == (2,)
    assert read_positions("compare the first and the last", 3) == (1, 3)
    assert read_positions("compare both", 3) == (1, 2)
    assert read_positions("all three please", 5) == (1, 2, 3)
    assert read_positions("#2 and #3", 3) == (2, 3)
    assert read_positions("the fifth one", 3) == ()
    assert read_positions("the second one", 0) == ()


def test_preferences() -> None:
    assert read_preferences("I don't like black", COLORS) == Preferences(disliked_colors=("Black",))
    assert read_preferences("I'm a size M and my budget is $50", COLORS) == Preferences(
        size="M", max_price=50.0
    )
    assert read_preferences("I wear medium, I love blue", COLORS) == Preferences(
        size="M", liked_colors=("Blue",)
    )
    assert read_preferences("a blue jacket", COLORS) == Preferences()


def test_preferences_merge_later_wins() -> None:
    first = Preferences(size="S", liked_colors=("Black",))
    merged = first.merged(Preferences(size="M", disliked_colors=("Black",)))
    assert merged == Preferences(size="M", disliked_colors=("Black",))
