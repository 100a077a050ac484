"""Turn a shopper's sentence into search text plus hard :class:`Filters`.

``parse_query("women's waterproof jacket under fifty dollars", colors, categories)`` returns
``("waterproof jacket", Filters(max_price=50.0, category="Women/Tops/Jackets"))``. Price, colour,
size, stock and gender phrases are removed from the text; the product-type noun ("jacket") is kept
because it still helps ranking. Number words (as Whisper transcribes speech) are read as numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from retrieval.results import Filters

DEFAULT_COLORS = ("Black", "White", "Gray", "Red", "Blue", "Green", "Yellow", "Orange", "Purple",
                  "Pink", "Brown", "Beige", "Navy", "Lavender")
COLOR_SYNONYMS = {"grey": "gray", "navy blue": "navy"}

_UNIT_WORDS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
               "fifteen sixteen seventeen eighteen nineteen")
_TEN_WORDS = "twenty thirty forty fifty sixty seventy eighty ninety"
_UNITS = {w: i for i, w in enumerate(_UNIT_WORDS.split(" "))}
_TENS = {w: 10 * (i + 2) for i, w in enumerate(_TEN_WORDS.split(" "))}
_SCALES = {"hundred": 100, "thousand": 1000}
_NUMBER_WORDS = {**_UNITS, **_TENS, **_SCALES}
_PRICE_CUES = {"under", "below", "than", "over", "above", "least", "most", "between", "and", "to",
               "from", "max", "maximum", "min", "minimum", "around", "about", "budget"}
_CURRENCY_WORDS = {"dollar", "dollars", "bucks", "usd"}

NUM = r"\$?\s*(\d+(?:\.\d+)?)"
CUR = r"(?:\s*(?:dollars?|bucks|usd))?"
_RANGE = re.compile(rf"\b(?:between|from)\s+{NUM}{CUR}\s+(?:and|to|-)\s+{NUM}{CUR}|"
                    rf"(?<![\w.])\$\s*(\d+(?:\.\d+)?)\s*(?:-|to)\s*{NUM}{CUR}|"
                    rf"\b(\d+(?:\.\d+)?)\s*(?:-|to)\s*(\d+(?:\.\d+)?)\s*(?:dollars|bucks|usd)\b", re.I)
_MAX = re.compile(rf"(?:\b(?:under|below|less\s+than|cheaper\s+than|at\s+most|up\s+to|no\s+more\s+than|"
                  rf"not\s+more\s+than|max(?:imum)?|within)|<=?)\s*{NUM}{CUR}", re.I)
_MIN = re.compile(rf"(?:\b(?:over|above|more\s+than|at\s+least|min(?:imum)?|starting\s+at)|>=?)\s*{NUM}{CUR}",
                  re.I)
_BUDGET = re.compile(rf"(?:\b(?:for|around|about)\s+)?(?:\$\s*(\d+(?:\.\d+)?){CUR}|"
                     rf"\b(\d+(?:\.\d+)?)\s*(?:dollars?|bucks|usd)\b)", re.I)

_SIZE_WORDS = {"extra small": "XS", "x-small": "XS", "xs": "XS", "medium": "M", "extra large": "XL",
               "x-large": "XL", "xl": "XL", "xxl": "XXL", "2xl": "XXL"}
_SIZE_AFTER_CUE = {"small": "S", "large": "L", "s": "S", "m": "M", "l": "L"}
_SIZE_CODE = re.compile(r"\b(?:in\s+)?size\s+(\d{1,3}|xxl|2xl|xl|xs|[sml]|extra\s+small|extra\s+large|"
                        r"x-small|x-large|small|medium|large)\b", re.I)
_IN_STOCK = re.compile(r"\b(?:(?:that\s+(?:is|are)\s+|currently\s+)?in\s+stock|available\s+now|"
                       r"available\s+today)\b", re.I)
_GENDERS = {
    "Women": r"women'?s?|woman'?s|ladies'?|lady'?s|female",
    "Men": r"men'?s?|man'?s|male|guys'?",
}
# Who a gift is for: a gender kept on results (Filters.gender), not a category ("gift for my dad who likes
# hiking" keeps hiking gear, which has no gender).
_RELATIVES = {
    "Women": r"(?:my\s+)?(?:wife|girlfriend|mum|mom|mother|sister|daughter|aunt|grandma)",
    "Men": r"(?:my\s+)?(?:husband|boyfriend|dad|father|brother|son|uncle|grandpa)",
}
GENDERS = tuple(_GENDERS)
_GROUPINGS = {"collections", "promotions"}
_STOPWORDS_EDGE = {"in", "or", "and", "for", "with", "a", "an", "the", "of", "that", "is", "are", "costs",
                   "cost", "priced", "price", "at", "some", "any", "something", "size", "color", "colour"}


def words_to_numbers(text: str) -> str:
    """Spoken numbers next to a price cue or currency word as digits ("fifty dollars" -> "50 dollars")."""
    tokens = re.findall(r"\$?[\w'.-]+|[^\w\s]", text)
    out: list[str] = []
    i = 0
    while i < len(tokens):
        end, value = _number_run(tokens, i)
        if end > i and _is_price_context(tokens, i, end, out):
            out.append(str(value))
            i = end
        else:
            out.append(tokens[i])
            i += 1
    return _rejoin(out)


def _number_run(tokens: Sequence[str], start: int) -> tuple[int, int]:
    """End index and value of the run of number words starting at ``start`` (end == start: none)."""
    total, current, i, end = 0, 0, start, start
    while i < len(tokens):
        parts = tokens[i].lower().split("-")
        if tokens[i].lower() == "a" and i + 1 < len(tokens) and tokens[i + 1].lower() in _SCALES:
            current, i = 1, i + 1
            continue
        if tokens[i].lower() == "and" and end > start and tokens[end - 1].lower() in _SCALES and \
                i + 1 < len(tokens) and tokens[i + 1].lower().split("-")[0] in _NUMBER_WORDS:
            i += 1
            continue
        if not all(p in _NUMBER_WORDS for p in parts):
            break
        for part in parts:
            total, current = _accumulate(total, current, part)
        i, end = i + 1, i + 1
    return end, total + current


def _accumulate(total: int, current: int, word: str) -> tuple[int, int]:
    if word == "hundred":
        return total, max(current, 1) * 100
    if word == "thousand":
        return total + max(current, 1) * 1000, 0
    return total, current + _NUMBER_WORDS[word]


def _is_price_context(tokens: Sequence[str], start: int, end: int, out: Sequence[str]) -> bool:
    after = tokens[end].lower() if end < len(tokens) else ""
    before = out[-1].lower() if out else ""
    return after in _CURRENCY_WORDS or before in _PRICE_CUES or before == "$"


def _rejoin(tokens: Sequence[str]) -> str:
    text = " ".join(tokens)
    text = re.sub(r"\s+([,.!?;:%)])", r"\1", text)
    return re.sub(r"\$\s+(\d)", r"$\1", text)


def _cut(text: str, match: re.Match[str]) -> str:
    return text[: match.start()] + " " + text[match.end():]


def _price(text: str) -> tuple[str, dict]:
    values: dict = {}
    if m := _RANGE.search(text):
        low, high = sorted(float(g) for g in m.groups() if g is not None)
        return _cut(text, m), {"min_price": low, "max_price": high}
    if m := _MAX.search(text):
        values["max_price"], text = float(m.group(1)), _cut(text, m)
    if m := _MIN.search(text):
        values["min_price"], text = float(m.group(1)), _cut(text, m)
    if not values and (m := _BUDGET.search(text)):
        values["max_price"], text = float(m.group(1) or m.group(2)), _cut(text, m)
    return text, values


def _colors(text: str, known_colors: Iterable[str]) -> tuple[str, tuple[str, ...]]:
    names = {c.lower(): c for c in known_colors} or {c.lower(): c for c in DEFAULT_COLORS}
    names |= {syn: names[base] for syn, base in COLOR_SYNONYMS.items() if base in names}
    found: list[str] = []
    for name in sorted(names, key=len, reverse=True):
        pattern = re.compile(rf"\b(?:in\s+|colou?r\s+)?{re.escape(name)}(?:\s+colou?r(?:ed)?)?\b", re.I)
        if pattern.search(text):
            text = pattern.sub(" ", text)
            if names[name] not in found:
                found.append(names[name])
    return text, tuple(found)


def size_code(said: str) -> str:
    """The catalog size code for what follows "size" ("medium" -> "M", "extra large" -> "XL", "32")."""
    code = re.sub(r"\s+", " ", said.strip().lower())
    return _SIZE_WORDS.get(code) or _SIZE_AFTER_CUE.get(code) or code.upper()


def _sizes(text: str) -> tuple[str, tuple[str, ...]]:
    found = [size_code(m.group(1)) for m in _SIZE_CODE.finditer(text)]
    text = _SIZE_CODE.sub(" ", text)
    for word in sorted(_SIZE_WORDS, key=len, reverse=True):
        pattern = re.compile(rf"\b(?:in\s+)?{re.escape(word)}(?!-)\b", re.I)
        if pattern.search(text):
            found.append(_SIZE_WORDS[word])
            text = pattern.sub(" ", text)
    for word, code in (("small", "S"), ("large", "L")):
        pattern = re.compile(rf"\bin\s+{word}\b", re.I)
        if pattern.search(text):
            found.append(code)
            text = pattern.sub(" ", text)
    return text, tuple(dict.fromkeys(found))


def _gender(text: str, words_by_gender: dict[str, str] = _GENDERS) -> tuple[str, str | None]:
    for gender, words in words_by_gender.items():
        pattern = re.compile(rf"(?<![\w'])(?:for\s+)?(?:{words})(?![\w'])", re.I)
        if pattern.search(text):
            return pattern.sub(" ", text), gender
    return text, None


def _singular(word: str) -> str:
    word = word.lower()
    if word.endswith("ches") or word.endswith("shes"):
        return word[:-2]
    if word.endswith("oes") and len(word) > 5:
        return word[:-2]  # "tomatoes", "potatoes"
    if word.endswith("s") and not word.endswith("ss") and word not in {"shorts", "pants", "leggings"}:
        return word[:-1]
    return word


def _segment_words(segment: str) -> set[str]:
    return {_singular(w) for w in re.split(r"[\s&,]+", segment) if len(w) > 1}


def _product_segments(path: str) -> list[str]:
    """The leading segments of a category path that describe the product (not collections/promotions)."""
    segments = path.split("/")
    for i, segment in enumerate(segments):
        if segment.lower() in _GROUPINGS:
            return segments[:i]
    return segments


def _category(text: str, gender: str | None, known_categories: Iterable[str]) -> str | None:
    """The catalog category path a product phrase in ``text`` names (+ gender).

    A segment counts when ALL its words are said ("sour cream" names "Sour Cream", not "Sour Milk");
    among those, more words first, then the later one in the text (the head of "apple juice" is
    juice), then the more specific path.
    """
    said = [_singular(w) for w in re.findall(r"[a-z][a-z-]+", text.lower())]
    said += [w.replace("-", "") for w in said if "-" in w]
    said += ["tee" for w in said if w in {"tshirt", "t-shirt"}]
    where = {w: i for i, w in enumerate(said)}
    best: tuple[tuple[int, int, int], str] | None = None
    for path in known_categories:
        segments = _product_segments(path)
        if not segments or (gender and segments[0] != gender):
            continue
        for depth, segment in enumerate(segments[1:], start=2):
            names = [_segment_words(part) for part in re.split(r"\s*(?:&|,|\band\b)\s*", segment)]
            needed = next((n for n in sorted(names, key=len, reverse=True) if n and n <= where.keys()), None)
            if needed is None:  # "Hoodies & Sweatshirts": either name, each said in full
                continue
            rank = (len(needed), max(where[w] for w in needed), -len(path))
            candidate = "/".join(segments[:depth]) if gender else segment
            if best is None or rank > best[0]:
                best = (rank, candidate)
    if best is None and gender:  # "men's watches": the kind's own category, the gender kept apart
        return _category(text, None, known_categories) or gender
    return best[1] if best else gender


def _tidy(text: str) -> str:
    words = re.sub(r"[\s,]+", " ", text).strip(" .,!?;:-").split()
    while words and words[0].lower() in _STOPWORDS_EDGE:
        words.pop(0)
    while words and words[-1].lower() in _STOPWORDS_EDGE:
        words.pop()
    return " ".join(words)


def parse_query(text: str, known_colors: Iterable[str] = (),
                known_categories: Iterable[str] = ()) -> tuple[str, Filters]:
    """The search text with filter phrases removed, and the :class:`Filters` they stated."""
    rest = words_to_numbers(text)
    rest, price = _price(rest)
    rest, in_stock_match = _IN_STOCK.subn(" ", rest)
    rest, sizes = _sizes(rest)
    rest, colors = _colors(rest, known_colors)
    rest, gender = _gender(rest)
    rest, relative = _gender(rest, _RELATIVES)
    category = _category(rest, gender, list(known_categories))
    gender = gender or relative
    filters = Filters(
        colors=colors, sizes=sizes, category=category, in_stock=bool(in_stock_match), gender=gender, **price
    )
    return _tidy(rest), filters
