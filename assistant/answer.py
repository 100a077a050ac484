"""The extractive answerer: pick the catalog sentences that answer a question, cite them, or abstain.

Scores combine token overlap (always available) with MiniLM cosine similarity when an encoder is
given. Nothing is generated: every sentence of an answer is a catalog sentence with its product id.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from assistant.answerability import YES_NO, AnswerabilityModel, feature_matrix, unit_matches
from assistant.facts import Fact, ended

Encoder = Callable[[list[str]], np.ndarray]

STOPWORD_TEXT = (
    "a an the is are was were be been am do does did can could will would should shall may might must "
    "what which who whom whose how why when where this that these those it its it's they them their there "
    "i me my we our you your he she his her of in on at to for from by with about as into than then so "
    "and or but if not no yes any some all just very really much many more most also too get got have has "
    "had there here one ones thing things item product please tell know want need like would anyone"
)
STOPWORDS = frozenset(STOPWORD_TEXT.split())
SPELLINGS = {"color": "colour", "colors": "colour", "colours": "colour", "sizes": "size"}
QUESTION_WORDS = {  # single words; phrases ("come from", "true to size") are lexicon question concepts
    "cost": "price",
    "expensive": "price",
    "cheap": "price",
    "costs": "price",
    "priced": "price",
    "made": "material",
    "fabric": "material",
    "washable": "wash",
    "washing": "wash",
    "weather": "climate",
    "warm": "warmth",
    "free": "price",
}


def tokens(text: str, question: bool = False) -> list[str]:
    """Lower-cased content words, crudely singularised; a question's words are also mapped onto the
    catalog's own vocabulary ("made of" -> material, "come in" -> colour)."""
    mapping = {**SPELLINGS, **QUESTION_WORDS} if question else SPELLINGS
    out = []
    text = re.sub(r"\bhow much\b", "price", text.lower()) if question else text.lower()
    for w in re.findall(r"[a-z0-9]+", text):
        if w in STOPWORDS:
            continue
        w = mapping.get(w, w)
        if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        out.append(w)
    return out


@lru_cache(maxsize=1)
def _lexicon_patterns() -> tuple[tuple[tuple[re.Pattern[str], frozenset[str]], ...], re.Pattern[str]]:
    """The lexicon's question concepts ("come from" -> origin/country) and overview phrases."""
    from assistant.slots import load_lexicon, phrase_pattern

    lex = load_lexicon()
    concepts = tuple(
        (phrase_pattern(c["phrases"]), frozenset(c["concepts"])) for c in lex["question_concepts"]
    )
    return concepts, phrase_pattern(lex["overview"])


def base_forms(word: str) -> frozenset[str]:
    """A word and, for a comparative or superlative, its base ("sweeter", "juiciest", "biggest")."""
    forms = {word}
    for suffix in ("iest", "ier"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            forms.add(word[: -len(suffix)] + "y")
    for suffix in ("est", "er"):
        stem = word[: -len(suffix)]
        if word.endswith(suffix) and len(stem) >= 3:
            forms |= {stem, stem + "e"}
            if len(stem) > 3 and stem[-1] == stem[-2]:
                forms.add(stem[:-1])  # "biggest" -> "big"
    return frozenset(forms)


def question_units(question: str) -> list[frozenset[str]]:
    """What a question asks for, as units of interchangeable words: a lexicon concept ("where does it
    come from" -> {origin, country, grown}) or one content word."""
    concepts, _ = _lexicon_patterns()
    text, units = question.lower(), []
    for pattern, words in concepts:
        if pattern.search(text):
            units.append(words)
            text = pattern.sub(" ", text)
    units += [frozenset({w}) for w in tokens(text, question=True)]
    if frozenset({"size"}) in units and not re.search(r"colou?r", question, re.I):
        units = [u for u in units if u != frozenset({"colour"})]  # "what sizes does it come in"
    return list(dict.fromkeys(units))


def overlap_scores(question: str, texts: Sequence[str], ignore: frozenset[str] = frozenset()) -> np.ndarray:
    """Share of the question's units (minus ``ignore``, e.g. product names) found in each text."""
    wanted = [u for u in question_units(question) if not u <= ignore]
    if not wanted:
        return np.zeros(len(texts))
    said = [set(tokens(t)) for t in texts]
    return np.array([sum(1 for u in wanted if u & s) / len(wanted) for s in said], dtype=float)


def asks_overview(question: str, facts: Sequence[Fact]) -> bool:
    """'tell me about the X', 'describe it': an overview request with nothing more specific asked."""
    _, overview = _lexicon_patterns()
    if not overview.search(question):
        return False
    ignore = frozenset(t for f in facts for t in tokens(f.title))
    return not [u for u in question_units(overview.sub(" ", question)) if not u <= ignore]


def overview_facts(facts: Sequence[Fact], sentences: int = 2) -> tuple[Fact, ...]:
    """The product's first description sentences (else its first details) and its price."""
    lead = [f for f in facts if f.source == "description"] or [f for f in facts if f.source == "attribute"]
    return tuple(lead[:sentences] + [f for f in facts if f.source == "price"])


@dataclass(frozen=True)
class Scored:
    fact: Fact
    score: float


@dataclass(frozen=True)
class Answer:
    """What the extractive step found: composed text, the facts it cites, and whether it abstained."""

    text: str
    facts: tuple[Fact, ...]
    abstained: bool

    @property
    def cited_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.product_id for f in self.facts))


STRUCTURED = frozenset({"attribute", "option"})  # catalog fields, not free text


def asked_concepts(question: str) -> frozenset[str]:
    """The lexicon concepts a question asks about ("where does it come from" -> origin, country, grown)."""
    concepts, _ = _lexicon_patterns()
    return frozenset(w for pattern, words in concepts if pattern.search(question.lower()) for w in words)


def is_field(fact: Fact) -> bool:
    """A clean 'Name: value' catalog field (not free text, not a raw JSON dump such as ePQA's, where
    the rules below were right on only 5 of 10 dev passages)."""
    return fact.source in STRUCTURED and ":" in fact.text and "{" not in fact.text


def answering_fields(question: str, facts: Sequence[Fact]) -> np.ndarray:
    """1 for a catalog field named by what a wh-question asks ("where does it come from?" -> "Origin:
    Italy") or stating the measure it asks in its unit ("how long is it?" -> "Size: 6 foot"): such a
    field answers it whatever the other words are. Free text is left to the scorer."""
    fields = np.array([is_field(f) for f in facts], dtype=float)
    asked = frozenset() if YES_NO.match(question) else asked_concepts(question)  # "is the height adjustable?"
    named = np.array([float(bool(asked & set(tokens(f.text.split(":", 1)[0])))) for f in facts])
    return fields * np.maximum(named, unit_matches(question, [f.text for f in facts]))


class ExtractiveAnswerer:
    """Rank facts against a question, keep the best above a threshold, compose a cited reply.

    With an :class:`AnswerabilityModel` (and an encoder, whose cosine it was trained on) a fact's score
    is the model's probability that it answers the question, and the threshold is the model's own.
    """

    def __init__(
        self,
        threshold: float,
        max_facts: int,
        encoder: Encoder | None = None,
        dense_weight: float = 0.5,
        model: AnswerabilityModel | None = None,
    ) -> None:
        self.encoder = encoder
        self.model = model if encoder is not None else None
        self.threshold = self.model.threshold if self.model is not None else threshold
        self.max_facts = max_facts
        self.dense_weight = dense_weight if encoder is not None else 0.0

    def rank(self, question: str, facts: Sequence[Fact]) -> list[Scored]:
        """All facts with their score, best first."""
        if not facts:
            return []
        scores, lengths = self._blend(question, facts)[2], np.array([len(tokens(f.text)) for f in facts])
        if self.model is not None:
            scores = self.model.probabilities(self.features(question, facts))
        scores = np.maximum(scores, answering_fields(question, facts))  # the field asked for ranks first
        order = np.lexsort((lengths, -scores))  # best score first; ties: the shorter, more specific fact
        return [Scored(facts[i], float(scores[i])) for i in order]

    def features(self, question: str, facts: Sequence[Fact]) -> np.ndarray:
        """The answerability features of each fact (rows in the order of ``facts``)."""
        overlap, cosine, scores = self._blend(question, facts)
        texts = [f.text for f in facts]
        lengths = np.array([len(tokens(t)) for t in texts])
        ignore = frozenset(t for f in facts for t in tokens(f.title))
        n_words = len(set(tokens(question, question=True)) - ignore)
        return feature_matrix(question, texts, overlap, cosine, scores, lengths, n_words)

    def _blend(self, question: str, facts: Sequence[Fact]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Word overlap, MiniLM cosine (zeros without an encoder) and their weighted sum."""
        texts = [f.text for f in facts]
        ignore = frozenset(t for f in facts for t in tokens(f.title))
        overlap = overlap_scores(question, texts, ignore)
        cosine = self._cosine(question, texts) if self.dense_weight > 0 else np.zeros(len(texts))
        return overlap, cosine, (1 - self.dense_weight) * overlap + self.dense_weight * cosine

    def _cosine(self, question: str, texts: list[str]) -> np.ndarray:
        vectors = np.asarray(self.encoder([question, *texts]), dtype=float)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12
        return np.clip(vectors[1:] @ vectors[0], 0.0, 1.0)

    def select(self, ranked: Sequence[Scored], threshold: float | None = None) -> list[Scored]:
        limit = self.threshold if threshold is None else threshold
        return [s for s in ranked if s.score >= limit][: self.max_facts]

    def answer(self, question: str, facts: Sequence[Fact], threshold: float | None = None) -> Answer:
        """The cited answer, or an abstention when no fact scores above the threshold."""
        if facts and asks_overview(question, facts):
            picked = overview_facts(facts)
            if picked:
                return Answer(compose(picked), picked, False)
        ranked = self.rank(question, facts)
        chosen = self.select(ranked, threshold)
        if not chosen:
            return Answer(abstain_text(facts), (), True)
        picked = tuple(s.fact for s in chosen)
        return Answer(compose(picked), picked, False)


SOURCE_PHRASES = {
    "description": "According to the {title}'s description: ",
    "attribute": "The {title}'s product details list ",
    "option": "The {title} lists ",
    "price": "The {title} is listed at ",
    "review": "A customer review of the {title} says: ",
}


def compose(facts: Sequence[Fact]) -> str:
    """One sentence per fact, each quoting the catalog and ending with the product id."""
    parts = []
    for f in facts:
        lead = SOURCE_PHRASES.get(f.source, "The {title}: ").format(title=f.title)
        text = f.text.removeprefix("Price: ") if f.source == "price" else f.text
        parts.append(f"{lead}{ended(text)} [{f.product_id}]")
    return " ".join(parts)


def abstain_text(facts: Sequence[Fact]) -> str:
    titles = list(dict.fromkeys(f.title for f in facts))
    about = f" about the {' or the '.join(titles[:2])}" if titles else ""
    return f"I don't know — the catalog doesn't say that{about}."
