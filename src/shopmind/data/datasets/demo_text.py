"""Bilingual text of the generated demo shop, built column-wise with Polars.

Every function takes integer codes (NumPy arrays, one entry per row) and returns Polars
string Series; no Python object is built per row. The words come from :mod:`.demo_vocab`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import polars as pl

from shopmind.data.datasets import demo_vocab as vocab

COLOURS: tuple[str, ...] = tuple(vocab.COLOUR_ZH)


def pick(words: Sequence[str] | pl.Series, codes: np.ndarray) -> pl.Series:
    """``words[codes]`` as a string Series; a negative code gives null.

    >>> pick(["a", "b"], np.array([1, -1, 0])).to_list()
    ['b', None, 'a']
    """
    series = words if isinstance(words, pl.Series) else pl.Series(list(words), dtype=pl.String)
    out = series.gather(np.maximum(codes, 0))
    missing = np.flatnonzero(codes < 0)
    return out.scatter(missing, None) if missing.size else out


def concat(*parts: str | pl.Series) -> pl.Series:
    """Concatenate literals and Series row by row; null parts are skipped.

    >>> concat("<", pl.Series(["a", None]), ">").to_list()
    ['<a>', '<>']
    """
    columns = {f"_{k}": p for k, p in enumerate(parts) if isinstance(p, pl.Series)}
    exprs = [pl.col(f"_{k}") if isinstance(p, pl.Series) else pl.lit(p)
             for k, p in enumerate(parts)]
    return pl.DataFrame(columns).select(pl.concat_str(exprs, ignore_nulls=True)).to_series()


def wrap(prefix: str, series: pl.Series, suffix: str) -> pl.Series:
    """``prefix + series + suffix``, null where ``series`` is null."""
    frame = pl.DataFrame({"s": series})
    return frame.select(pl.concat_str([pl.lit(prefix), "s", pl.lit(suffix)])).to_series()


def ids(prefix: str, n: int) -> pl.Series:
    """``n`` zero-padded ids: ``ids("u", 3)`` gives u000001, u000002, u000003.

    >>> ids("u", 2).to_list()
    ['u000001', 'u000002']
    """
    width = max(6, len(str(n)))
    numbers = pl.int_range(1, n + 1, eager=True).cast(pl.String).str.zfill(width)
    return (prefix + numbers).alias("id")


def choose(mask: np.ndarray, when_true: pl.Series, when_false: pl.Series) -> pl.Series:
    """Row-wise ``when_true if mask else when_false``."""
    frame = pl.DataFrame({"m": mask, "a": when_true, "b": when_false})
    return frame.select(pl.when("m").then("a").otherwise("b")).to_series()


def _two_per_top(
    rng: np.random.Generator, top: np.ndarray, attr: str
) -> tuple[np.ndarray, np.ndarray]:
    """Two different random entries of each row's top-category word list ``attr`` (flat)."""
    sizes = np.array([len(getattr(t, attr)) for t in vocab.CATALOG])
    start = np.concatenate([[0], np.cumsum(sizes)[:-1]])[top]
    size = sizes[top]
    first = (rng.random(len(top)) * size).astype(np.int64)
    second = (first + 1 + (rng.random(len(top)) * (size - 1)).astype(np.int64)) % size
    return start + first, start + second


def _flat(attr: str, side: int) -> list[str]:
    return [pair[side] for t in vocab.CATALOG for pair in getattr(t, attr)]


def item_attributes(rng: np.random.Generator, top: np.ndarray) -> tuple[pl.Series, np.ndarray]:
    """Compact JSON attributes of each item and its colour code (-1 where it has none)."""
    out = pl.repeat("", len(top), dtype=pl.String, eager=True)
    colour = np.full(len(top), -1, dtype=np.int64)
    for t, spec in enumerate(vocab.CATALOG):
        rows = np.flatnonzero(top == t)
        parts: list[str | pl.Series] = []
        for key, values in spec.attributes:
            codes = rng.integers(len(values), size=rows.size)
            encoded = [json.dumps(v, ensure_ascii=False) for v in values]
            parts += [("," if parts else "{") + f'"{key}":', pick(encoded, codes)]
            if key == "colour":
                colour[rows] = np.array([COLOURS.index(str(v)) for v in values])[codes]
        out = out.scatter(rows, concat(*parts, "}"))
    return out, colour


def item_text(
    rng: np.random.Generator,
    top: np.ndarray,
    leaf_zh: pl.Series,
    leaf_singular: pl.Series,
    brand: pl.Series,
    band: np.ndarray,
    colour: np.ndarray,
    zh: np.ndarray,
) -> tuple[pl.Series, pl.Series]:
    """Titles and descriptions, Chinese where ``zh`` else English.

    A title is brand + two adjectives + leaf name (+ colour) + a model code; a description
    names the brand and leaf, two selling points of the top category and the price band.
    """
    n = len(top)
    adj1, adj2 = _two_per_top(rng, top, "adjectives")
    sp1, sp2 = _two_per_top(rng, top, "selling_points")
    code = concat(pick("ABCDEFGHJKMNPRSTX", rng.integers(17, size=n)),
                  pl.Series(rng.integers(100, 1000, size=n)).cast(pl.String))
    adj_zh, adj_en = _flat("adjectives", 0), _flat("adjectives", 1)
    sp_zh, sp_en = _flat("selling_points", 0), _flat("selling_points", 1)
    colour_zh = pick([vocab.COLOUR_ZH[c] for c in COLOURS], colour)
    colour_en = pick([c.capitalize() for c in COLOURS], colour)
    zh_title = concat(brand, " ", pick(adj_zh, adj1), pick(adj_zh, adj2), leaf_zh, " ",
                      wrap("", colour_zh, " "), code)
    en_title = concat(brand, " ", pick(adj_en, adj1), " ", pick(adj_en, adj2), " ",
                      leaf_singular, wrap(", ", colour_en, ""), " ", code)
    bands = vocab.PRICE_BAND_PHRASES
    zh_desc = concat(brand, leaf_zh, "，", pick(sp_zh, sp1), "，", pick(sp_zh, sp2), "。",
                     pick([b[0] for b in bands], band), "。")
    en_desc = concat(pick(adj_en, adj1), " ", leaf_singular.str.to_lowercase(), " by ", brand,
                     ". ", pick(sp_en, sp1), ". ", pick(sp_en, sp2), ". ",
                     pick([b[1] for b in bands], band), ".")
    return choose(zh, zh_title, en_title), choose(zh, zh_desc, en_desc)


def search_queries(
    rng: np.random.Generator,
    zh: np.ndarray,
    top: np.ndarray,
    leaf_zh: pl.Series,
    leaf_plural: pl.Series,
    leaf_singular: pl.Series,
    brand: pl.Series,
    price_level: np.ndarray,
) -> pl.Series:
    """Search text in the shopper's language: a leaf name, alone or after a brand, an
    adjective or a price word that follows the shopper's price level ("便宜", "premium")."""
    n = len(zh)
    template = rng.integers(4, size=n)  # 0 leaf, 1 brand + leaf, 2 adjective + leaf, 3 word
    adjective, _ = _two_per_top(rng, top, "adjectives")
    kind = np.where(price_level < -0.5, 0, np.where(price_level > 0.8, 1, 2))
    draw = rng.random(n)
    prefixes = {}
    for lang in ("zh", "en"):
        groups = [vocab.QUERY_WORDS[f"{lang}_{k}"] for k in ("cheap", "premium", "plain")]
        flat = [w for group in groups for w in group]
        sizes = np.array([len(g) for g in groups])
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        word = (draw * sizes[kind]).astype(np.int64)
        prefixes[lang] = pl.DataFrame({
            "t": template, "brand": brand,
            "adj": pick(_flat("adjectives", 0 if lang == "zh" else 1), adjective),
            "word": pick(flat, offsets[kind] + word),
        }).select(
            pl.when(pl.col("t") == 1).then("brand").when(pl.col("t") == 2).then("adj")
            .when(pl.col("t") == 3).then("word").otherwise(None)
        ).to_series()
    zh_query = concat(prefixes["zh"], leaf_zh)
    en_query = choose(template == 0, leaf_plural,
                      concat(wrap("", prefixes["en"], " "), leaf_singular)).str.to_lowercase()
    return choose(zh, zh_query, en_query)


def review_texts(
    rng: np.random.Generator,
    zh: np.ndarray,
    rating: np.ndarray,
    sized: np.ndarray,
    quality: np.ndarray,
    price_z: np.ndarray,
) -> pl.Series:
    """Review text that agrees with its star rating and with the item.

    An opener fitting the rating, then one or two remarks on aspects (quality, price,
    delivery, size for clothes and shoes, packaging): positive for 4–5 stars, negative for
    1–2, one of each for 3. Low ratings blame quality more often when the item is poorly
    made and price when it is dear; high ratings praise them when they are good.
    """
    n = len(rating)
    weights = np.tile(np.array([1.0, 0.8, 0.7, 0.9, 0.4]), (n, 1))
    weights[~sized, 3] = 0.0
    low = rating <= 3
    weights[:, 0] += 1.5 * np.where(low, quality < 0, quality > 0.5)
    weights[:, 1] += 1.5 * np.where(low, price_z > 0.3, price_z < -0.3)
    with np.errstate(divide="ignore"):
        keys = np.log(weights) + rng.gumbel(size=weights.shape)
    order = np.argsort(-keys, axis=1)
    aspect1, aspect2 = order[:, 0], order[:, 1]
    polarity1, polarity2 = (rating >= 3).astype(np.int64), (rating >= 4).astype(np.int64)
    two = (rng.random(n) < 0.6) | (rating == 3)
    lang = np.where(zh, 0, 1)
    phrases: list[str] = []
    first_phrases: list[str] = []
    openers: list[str] = []
    for code in ("zh", "en"):
        for aspect in vocab.REVIEW_ASPECTS:
            for group in vocab.REVIEW_PHRASES[code][aspect]:
                phrases += group
                first_phrases += [p[0].upper() + p[1:] for p in group]
        openers += [o for group in vocab.REVIEW_OPENERS[code] for o in group]
    n_phrases = 3  # per (language, aspect, polarity)

    def remark(aspect: np.ndarray, polarity: np.ndarray) -> np.ndarray:
        return ((lang * 5 + aspect) * 2 + polarity) * n_phrases + rng.integers(n_phrases, size=n)

    joiners = [j for code in ("zh", "en") for j in vocab.REVIEW_JOINERS[code]]
    second = concat(pick(joiners, lang * 2 + (polarity1 != polarity2)),
                    pick(phrases, remark(aspect2, polarity2)))
    opener = pick(openers, (lang * 5 + rating - 1) * 2 + rng.integers(2, size=n))
    first_code = remark(aspect1, polarity1)
    first = choose(zh, pick(phrases, first_code), wrap(" ", pick(first_phrases, first_code), ""))
    second = choose(two, second, pl.Series([None] * n, dtype=pl.String))
    return concat(opener, first, second, choose(zh, pl.Series(["。"] * n), pl.Series(["."] * n)))


def user_attributes(
    age: np.ndarray, gender: np.ndarray, tier: np.ndarray, zh: np.ndarray
) -> pl.Series:
    """Compact JSON: age band, gender, city tier (1–4) and language of each shopper."""
    return concat('{"age_band":"', pick(vocab.AGE_BANDS, age), '","gender":"',
                  pick(vocab.GENDERS, gender), '","city_tier":',
                  pl.Series(tier + 1).cast(pl.String), ',"language":"',
                  pick(["en", "zh"], zh.astype(np.int64)), '"}')


def personal_fields(rng: np.random.Generator, zh: np.ndarray) -> dict[str, pl.Series]:
    """Visibly fake names, e-mails (example.com), phone numbers and addresses."""
    n = len(zh)

    def digits(width: int) -> pl.Series:
        return pl.Series(rng.integers(10**width, size=n)).cast(pl.String).str.zfill(width)

    surname, given = rng.integers(len(vocab.ZH_SURNAMES), size=n), rng.integers(
        len(vocab.ZH_GIVEN), size=n)
    first, last = rng.integers(len(vocab.EN_FIRST), size=n), rng.integers(
        len(vocab.EN_LAST), size=n)
    number = pl.int_range(1, n + 1, eager=True).cast(pl.String)
    house = pl.Series(rng.integers(1, 300, size=n)).cast(pl.String)
    en_first, en_last = pick(vocab.EN_FIRST, first), pick(vocab.EN_LAST, last)
    zh_name = concat(pick([s for s, _ in vocab.ZH_SURNAMES], surname),
                     pick([g for g, _ in vocab.ZH_GIVEN], given))
    zh_email = concat(pick([g for _, g in vocab.ZH_GIVEN], given), ".",
                      pick([s for _, s in vocab.ZH_SURNAMES], surname), number, "@example.com")
    en_email = concat(en_first.str.to_lowercase(), ".", en_last.str.to_lowercase(), number,
                      "@example.com")
    return {
        "name": choose(zh, zh_name, concat(en_first, " ", en_last)),
        "email": choose(zh, zh_email, en_email),
        "phone": choose(zh, concat("+86 100 ", digits(4), " ", digits(4)),
                        concat("+1 555-", digits(4))),
        "address": choose(
            zh,
            concat("示例省示例市", pick(vocab.ZH_DISTRICTS, rng.integers(6, size=n)),
                   pick(vocab.ZH_ROADS, rng.integers(5, size=n)), house, "号"),
            concat(house, " ", pick(vocab.EN_STREETS, rng.integers(5, size=n)), ", Example City"),
        ),
    }
