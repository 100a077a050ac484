"""Product cards and comparison tables, built only from catalog fields."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from assistant.facts import attribute_fact, format_price, plain
from assistant.results import Citation, ProductCard
from retrieval.catalog import Product
from retrieval.results import Hit


def card(hit: Hit, disliked: Sequence[str] = ()) -> ProductCard:
    """A card for a hit: colours the shopper dislikes are left out, reasons become the 'why' lines."""
    p = hit.product
    colors = tuple(c for c in p.colors if c not in disliked)
    why = tuple(dict.fromkeys(hit.reasons))
    return ProductCard(
        product_id=p.id,
        title=plain(p.title),
        price=p.price,
        currency=p.currency,
        image_path=hit.image_path,
        colors=colors,
        sizes=tuple(p.sizes),
        why=why,
    )


def allowed(product: Product, disliked: Sequence[str]) -> bool:
    """False when every colour the product comes in is one the shopper said they dislike."""
    if not disliked or not product.colors:
        return True
    return any(c not in disliked for c in product.colors)


def comparison(products: Sequence[Product]) -> tuple[tuple[str, ...], ...]:
    """Header row (blank + titles) then one row per field that at least one product states."""
    rows: list[tuple[str, ...]] = [("", *(plain(p.title) for p in products))]
    rows.append(("Price", *(format_price(p.price, p.currency) for p in products)))
    rows.append(("Colours", *(", ".join(p.colors) or "—" for p in products)))
    rows.append(("Sizes", *(", ".join(p.sizes) or "—" for p in products)))
    for name in _attribute_names(products):
        label = name.replace("_", " ").capitalize()
        rows.append((label, *(plain(p.attributes.get(name, "—")) for p in products)))
    rated = [_rating(p) for p in products]
    if any(r is not None for r in rated):
        rows.append(("Average rating", *(f"{r:.1f}/5" if r is not None else "—" for r in rated)))
    return tuple(rows)


def comparison_citations(products: Sequence[Product]) -> tuple[Citation, ...]:
    return tuple(
        Citation(p.id, attribute_fact(k, v), "attribute")
        for p in products
        for k, v in p.attributes.items()
        if k in _attribute_names(products)
    )


def comparison_summary(products: Sequence[Product]) -> str:
    """One plain sentence stating what the table shows (cheapest product), with ids."""
    priced = [p for p in products if p.price is not None]
    names = " and ".join(f"the {plain(p.title)} [{p.id}]" for p in products)
    if len(priced) < 2:
        return f"Here is how {names} compare."
    cheapest = min(priced, key=lambda p: p.price or 0.0)
    return (
        f"Here is how {names} compare. The {plain(cheapest.title)} is the cheapest at "
        f"{format_price(cheapest.price, cheapest.currency)}."
    )


def _attribute_names(products: Sequence[Product]) -> list[str]:
    """Attribute names the compared products have, those most of them share first (catalog order on ties)."""
    counts = Counter(k for p in products for k in p.attributes)
    return sorted(counts, key=lambda k: -counts[k])


def _rating(product: Product) -> float | None:
    ratings = [r.rating for r in product.reviews if r.rating is not None]
    return sum(ratings) / len(ratings) if ratings else None
