"""Classify a turn (deterministic rules + keyword patterns) and read the preferences it states."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from assistant.state import ConversationState, Preferences
from retrieval.query import size_code


class Intent(StrEnum):
    GREETING = "greeting"
    OUT_OF_SCOPE = "out_of_scope"
    PREFERENCE = "preference"
    COMPARE = "compare"
    SIMILAR = "similar"
    REFINE = "refine"
    MORE = "more"
    QUESTION = "question"
    PHOTO = "photo"
    SEARCH = "search"


@dataclass(frozen=True)
class Turn:
    """A classified message: what to do, which shown products it points at, what it says about the shopper."""

    text: str
    intent: Intent
    positions: tuple[int, ...] = ()
    image_path: str | None = None
    cheaper: bool = False
    preferences: Preferences = Preferences()


ORDINALS = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "fifth": 5,
    "5th": 5,
    "last": -1,
    "one": 1,
    "two": 2,
    "three": 3,
}

GREETING = re.compile(
    r"^\s*(hi|hello|hey|good (morning|afternoon|evening)|thanks?( you)?|thank you)\b[\s!.,]*"
    r"(there|so much|a lot)?[\s!.]*$",
    re.I,
)
OUT_OF_SCOPE = re.compile(
    r"\b(poem|poetry|song|lyrics|haiku|story|joke|weather|forecast|news|politic\w*|election|recipe|"
    r"homework|essay|translate|stock market|bitcoin|crypto|code|program(ming)?|python|math|capital of|"
    r"president|horoscope|meaning of life|sports? scores?)\b",
    re.I,
)
SHOPPING = re.compile(
    r"\b(buy|price|\$|jacket|shirt|hoodie|bag|shoe|pants|shorts|size|colou?r|product|"
    r"order|wear|tee|top|bra|watch|gear|yoga|run|running|gym)\b",
    re.I,
)
COMPARE = re.compile(
    r"\b(compare|comparison|versus|vs\.?|difference between|differences|which (one )?is "
    r"better)\b",
    re.I,
)
SIMILAR = re.compile(
    r"\b(more like|similar( to)?|something like|like the (\w+) one|alternatives? to)\b", re.I
)
MORE = re.compile(
    r"^\s*(show me )?(more|other|different)( ones| options| products| results)?\s*[.!?]*$|"
    r"\b(anything else|other options|show me more)\b",
    re.I,
)
CHEAPER = re.compile(
    r"\b(cheaper|less expensive|more affordable|lower price|too expensive|on a budget)\b", re.I
)
QUESTION_START = re.compile(
    r"^\s*(what|which|how|does|do|is|are|can|could|will|would|should|was|were|"
    r"has|have|why|where|when|who|tell me about)\b",
    re.I,
)
FIND_WORDS = re.compile(
    r"\b(find|show|looking for|look for|need|want|recommend|suggest|search|"
    r"get me|i'd like|buy)\b",
    re.I,
)
PHOTO_REF = re.compile(r"\b(this|these|photo|picture|image|pic)\b", re.I)
POSITION = re.compile(
    r"\b(first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last)\b|#\s*(\d)|"
    r"\b(?:number|no\.?|item|option)\s*(\d)\b",
    re.I,
)
BOTH = re.compile(r"\b(both|the two|these two|those two|first two|top two|top 2)\b", re.I)
THREE = re.compile(r"\b(all three|the three|first three|top three|top 3|these three)\b", re.I)
DISLIKE = re.compile(
    r"\b(?:don'?t like|do not like|dislike|hate|not a fan of|no|not|avoid|except|"
    r"anything but)\s+(?:the\s+)?(?:colou?r\s+)?([a-z]+)",
    re.I,
)
LIKE = re.compile(
    r"\b(?:i (?:really )?(?:like|love|prefer)|my favou?rite colou?r is)\s+(?:the\s+)?"
    r"(?:colou?r\s+)?([a-z]+)",
    re.I,
)
MY_SIZE = re.compile(
    r"\b(?:i'?m (?:a )?size|i am (?:a )?size|my size is|i wear(?: a)?(?: size)?|i'?m an?)\s+"
    r"(extra large|extra small|small|medium|large|xxl|xl|xs|s|m|l|\d{2})\b",
    re.I,
)
BUDGET = re.compile(
    r"\b(?:my budget is|budget(?: of| is)?|can spend|spend (?:up to|at most)|no more than)\s*"
    r"(?:about |around )?\$?\s*(\d+(?:\.\d+)?)",
    re.I,
)


def classify(
    text: str, state: ConversationState, image_path: str | None = None, known_colors: Iterable[str] = ()
) -> Turn:
    """The intent of one message given what the conversation has shown so far."""
    prefs = read_preferences(text, known_colors)
    positions = read_positions(text, len(state.shown_ids))
    intent = _intent(text, state, image_path, prefs, positions)
    return Turn(
        text=text,
        intent=intent,
        positions=positions,
        image_path=image_path,
        cheaper=bool(CHEAPER.search(text)),
        preferences=prefs,
    )


def _intent(
    text: str,
    state: ConversationState,
    image_path: str | None,
    prefs: Preferences,
    positions: tuple[int, ...],
) -> Intent:
    shown = bool(state.shown_ids)
    if GREETING.match(text):
        return Intent.GREETING
    if OUT_OF_SCOPE.search(text) and not SHOPPING.search(text):
        return Intent.OUT_OF_SCOPE
    if image_path:
        return Intent.PHOTO
    if shown and COMPARE.search(text):
        return Intent.COMPARE
    if shown and SIMILAR.search(text):
        return Intent.SIMILAR
    if shown and MORE.search(text):
        return Intent.MORE
    if not prefs.is_empty() and _only_preference(text):
        return Intent.PREFERENCE
    if shown and CHEAPER.search(text):
        return Intent.REFINE
    if QUESTION_START.search(text) and not FIND_WORDS.search(text) and (shown or positions or "?" in text):
        return Intent.QUESTION
    if shown and _is_short_constraint(text):
        return Intent.REFINE
    return Intent.SEARCH


def _only_preference(text: str) -> bool:
    return not FIND_WORDS.search(text) and not QUESTION_START.search(text)


def _is_short_constraint(text: str) -> bool:
    """'in blue', 'size M', 'under $40', 'but waterproof': a tweak of the last search, not a new one."""
    words = re.findall(r"[\w$']+", text)
    return len(words) <= 5 and not FIND_WORDS.search(text)


def read_positions(text: str, shown: int) -> tuple[int, ...]:
    """1-based positions of shown products the message points at ('the second one', '#3', 'both')."""
    if shown == 0:
        return ()
    if THREE.search(text):
        return tuple(range(1, min(3, shown) + 1))
    if BOTH.search(text):
        return tuple(range(1, min(2, shown) + 1))
    found: list[int] = []
    for m in POSITION.finditer(text):
        word, digit = m.group(1), m.group(2) or m.group(3)
        pos = int(digit) if digit else ORDINALS[word.lower()]
        pos = shown if pos == -1 else pos
        if 1 <= pos <= shown and pos not in found:
            found.append(pos)
    return tuple(found)


def read_preferences(text: str, known_colors: Iterable[str] = ()) -> Preferences:
    """Size, budget and colours the shopper states about themselves ('I don't like black', 'I'm a size M')."""
    colors = {c.lower(): c for c in known_colors}
    disliked = tuple(colors[w.lower()] for w in DISLIKE.findall(text) if w.lower() in colors)
    liked = tuple(colors[w.lower()] for w in LIKE.findall(text) if w.lower() in colors)
    size = _size(MY_SIZE.search(text))
    budget = BUDGET.search(text)
    return Preferences(
        size=size,
        max_price=float(budget.group(1)) if budget else None,
        liked_colors=tuple(c for c in liked if c not in disliked),
        disliked_colors=disliked,
    )


def _size(match: re.Match[str] | None) -> str | None:
    if not match:
        return None
    return size_code(match.group(1))
