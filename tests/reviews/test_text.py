"""Review text helpers: the fast Latin-script word split gives jieba's words exactly."""

from __future__ import annotations

import pytest

from shopmind.reviews.text import _jieba, _latin_pieces, normalize, tokens

TRICKY = [
    "love it!! works great w/ my wi-fi & bluetooth",
    "5.0 stars, 100% happy... $29.99 (was 49.99) — 2nd one i bought",
    "don't buy: it's a 3-in-1 gadget_thing; e-mail me @ foo.bar@x.com",
    "café crème brûlée ✨🙂 naïve über",
    "c++ and c# and at&t, a+b, #1 seller",
    "   ",
    "",
]


@pytest.mark.parametrize("text", TRICKY)
def test_latin_tokens_equal_jiebas(text: str) -> None:
    text = normalize(text)
    expected = [t for t in _jieba().lcut(text) if any(c.isalnum() or c == "_" for c in t)]
    assert tokens(text) == expected


def test_latin_pieces_keep_decimals_and_percent_signs_on_their_numbers() -> None:
    assert _latin_pieces("5.0 and 100%") == ["5.0", " ", "and", " ", "100%"]
