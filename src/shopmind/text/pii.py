"""PII scrubbing: personal data in free text replaced by typed placeholders.

Kinds and how each is recognized (pattern, then a check that rejects look-alikes):

* ``[EMAIL]`` — ``local@domain.tld``;
* ``[ID_CARD]`` — Chinese resident ID (GB 11643-1999): 6-digit area, a real birth date,
  3-digit sequence and the ISO 7064 MOD 11-2 check character (``X`` = 10);
* ``[CARD]`` — payment cards: 13–19 digits (spaces or dashes allowed between groups), a
  known issuer prefix (Visa, Mastercard, Amex, UnionPay, Discover, JCB, Diners) and a valid
  Luhn checksum;
* ``[PHONE]`` — Chinese mobiles (``1[3-9]`` + 9 digits, optional ``+86``), Chinese
  landlines (``0AA-NNNNNNN``), ``+``/``00`` international numbers with 8–15 digits and
  North-American ``(555) 123-4567``;
* ``[ADDRESS]`` — Chinese street addresses (road/street + number + ``号``, with the
  province/city/district before it and building/unit/room after it) and English ones
  (house number + street name + street suffix, optional apartment).

Digit runs must not touch other digits, so order numbers, tracking numbers and prices
(``订单号 20231124000123456``, ``¥1299.00``, ``$19.99``) stay as they are. The raw matches
are never returned or logged, only counts by kind.

>>> scrub("call 13812345678 or mail li.lei@example.com, 订单号 202311240001234")
'call [PHONE] or mail [EMAIL], 订单号 202311240001234'
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import polars as pl

PLACEHOLDERS = {"email": "[EMAIL]", "id_card": "[ID_CARD]", "card": "[CARD]",
                "phone": "[PHONE]", "address": "[ADDRESS]"}


@dataclass(frozen=True)
class ScrubResult:
    """Scrubbed text and how many items of each kind were replaced."""

    text: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def found(self) -> bool:
        return bool(self.counts)


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) checksum of a digit string holds.

    >>> luhn_ok("4111111111111111"), luhn_ok("4111111111111112")
    (True, False)
    """
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def china_id_ok(number: str) -> bool:
    """An 18-character Chinese ID number with a real birth date and a valid check character.

    >>> china_id_ok("11010519491231002X"), china_id_ok("110105194912310021")
    (True, False)
    """
    if not re.fullmatch(r"\d{17}[\dXx]", number):
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if not date(1900, 1, 1) <= born <= date.today():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


def _card_ok(match: str) -> bool:
    digits = re.sub(r"\D", "", match)
    issuer = re.match(r"4|5[1-5]|2[2-7]|3[47]|3[05689]|62|6011|65", digits)
    return 13 <= len(digits) <= 19 and issuer is not None and luhn_ok(digits)


def _phone_ok(match: str) -> bool:
    return 7 <= len(re.sub(r"\D", "", match)) <= 15


#: Full-width digits, Latin letters and @ + - . (NFKC's mapping) are read as ASCII, so
#: "１３８１２３４５６７８" and "li＠example.com" are found; the text keeps them as written.
_FULL_WIDTH = str.maketrans({chr(0xFF00 + ord(c) - 0x20): c for c in
                             "0123456789@+-.ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"})
_ROAD = r"(?:路|街|大街|大道|巷|胡同|弄)"  # not 里: 盒子里5号电池, 这里1号下单
_CN_PLACE = r"[\u4e00-\u9fff]{1,8}?(?:省|自治区|市|自治州|区|县|镇|乡)"
_EN_SUFFIX = (r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Ln|Dr|Ct|Pl|Parkway|Pkwy|"
              r"Highway|Hwy|Sq)\b\.?")
# words that also name products ("Set of 4 Large Square Plates", "2 External Hard Drive",
# "8 Piece Place Setting"): street suffixes only after a house number of 2+ digits
_EN_SUFFIX_AMBIGUOUS = r"(?:Lane|Drive|Court|Way|Place|Terrace|Square)\b\.?"
_EN_NAME = r"(?:[A-Z][a-z]+\.?\s+){1,4}"
_PATTERNS: list[tuple[str, re.Pattern[str], Callable[[str], bool] | None]] = [
    # bounded parts, tried only where a run of local-part characters starts: linear time
    # (an unbounded "[...]+@" backtracks over every start in a long run: 20 min for 1 MB)
    ("email", re.compile(r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]{1,64}@"
                         r"(?:[A-Za-z0-9\-]{1,63}\.){1,8}[A-Za-z]{2,63}"), None),
    ("id_card", re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])"), china_id_ok),
    ("card", re.compile(r"(?<![\d\-])\d{4}(?:[ \-]?\d{2,7}){2,4}(?![\d\-])"), _card_ok),
    # "+" numbers; "00" ones only with a separator after the country code or as
    # 0086 + a mobile (订单号 00123456789 is an order number)
    ("phone", re.compile(
        r"(?<![0-9A-Za-z_+])(?:\+\d{1,3}[\s\-.]?|00\d{1,3}[\s\-.])(?:\(\d{1,4}\)|\d{1,5})"
        r"(?:[\s\-.]?\d{2,5}){1,4}(?![\d\-])"), _phone_ok),
    # mobiles 3-4-4 or 4-3-4, separated by space, dash or dot (138.1234.5678, 1381-234-5678)
    ("phone", re.compile(r"(?<![\dA-Za-z.])(?:(?:\+|00)86[\s\-]?)?1[3-9]\d"
                         r"(?:[\s\-.]?\d{4}[\s\-.]?\d{4}|\d[\s\-.]\d{3}[\s\-.]\d{4})"
                         r"(?!\.?\d)"),
     None),
    # landlines: 010-12345678, 010 12345678, (010)12345678, （010）…, 010-1234-5678, and an
    # extension (021-12345678-8001)
    ("phone", re.compile(r"(?<![\d\-])(?:0\d{2,3}[\s\-]|\(0\d{2,3}\)\s?|（0\d{2,3}）)"
                         r"(?:\d{7,8}|\d{3,4}-\d{4})(?:-\d{1,5})?(?![\d\-])"), None),
    ("phone", re.compile(r"(?<![0-9A-Za-z_])\(\d{3}\)\s?\d{3}[\s\-.]\d{4}(?!\d)"
                         r"|(?<![0-9A-Za-z_\-.])(?:1[\-.\s])?\d{3}[\-.]\d{3}[\-.]\d{4}"
                         r"(?![\d\-.])"), None),
    ("address", re.compile(
        # the lookahead fails fast where no road and number follow within 50 characters,
        # before the place names' many ways to split a long Chinese run are tried
        # and no way to split the place names is retried (an atomic group: a run of
        # 市 before 路1 took 5 s per 10k characters); a label (地址) is not the address
        rf"(?![地住]址|址)(?=[\u4e00-\u9fff0-9]{{1,50}}?{_ROAD}\d{{1,5}}(?:-\d{{1,4}})?号)"
        rf"(?>(?:{_CN_PLACE}){{0,4}})[\u4e00-\u9fff0-9]{{0,10}}?{_ROAD}\d{{1,5}}(?:-\d{{1,4}})?号"
        r"(?:院|大厦)?(?:\d{1,4}(?:号楼|栋|幢|座))?(?:\d{1,3}单元)?(?:\d{1,5}(?:室|房|号))?"),
     None),
    ("address", re.compile(
        rf"\b(?:\d{{1,6}}\s+{_EN_NAME}{_EN_SUFFIX}|\d{{2,6}}\s+{_EN_NAME}{_EN_SUFFIX_AMBIGUOUS}"
        # a one-digit number with such a suffix when an apartment follows (8 Park Lane Apt 3)
        rf"|\d\s+{_EN_NAME}{_EN_SUFFIX_AMBIGUOUS}(?=,?\s*(?:Apt|Apartment|Suite|Ste|Unit|#)))"
        r"(?:\s+(?:[NS][EW]?|[EW])\b)?"
        r"(?:,?\s*(?:Apt|Apartment|Suite|Ste|Unit|#)\.?\s*\w{1,6})?"), None),
]


def scrub_report(text: str | None) -> ScrubResult:
    """Replace every PII item in ``text`` with its placeholder; count them by kind.

    >>> r = scrub_report("身份证11010519491231002X，地址：北京市朝阳区建国路88号3单元502室")
    >>> r.text, r.counts
    ('身份证[ID_CARD]，地址：[ADDRESS]', {'id_card': 1, 'address': 1})
    """
    # Patterns read a folded copy (full-width forms as ASCII, one character each), and
    # every replacement is made at the same place in both copies, so the text keeps its
    # full-width characters outside the PII.
    written = text or ""
    folded = written.translate(_FULL_WIDTH)
    counts: Counter[str] = Counter()
    for kind, pattern, check in _PATTERNS:
        kept_folded: list[str] = []
        kept_written: list[str] = []
        last = 0
        for match in pattern.finditer(folded):
            if check is not None and not check(match.group(0)):
                continue
            kept_folded += [folded[last:match.start()], PLACEHOLDERS[kind]]
            kept_written += [written[last:match.start()], PLACEHOLDERS[kind]]
            last = match.end()
            counts[kind] += 1
        if last:
            folded = "".join([*kept_folded, folded[last:]])
            written = "".join([*kept_written, written[last:]])
    return ScrubResult(written, dict(counts))


def scrub(text: str | None) -> str:
    """``text`` with PII replaced by ``[EMAIL]``, ``[PHONE]``, ``[ID_CARD]``, ``[CARD]``,
    ``[ADDRESS]`` (see the module docstring); ``None`` becomes ``""``."""
    return scrub_report(text).text


def scrub_all(texts: list[str | None]) -> list[str]:
    """:func:`scrub` over a batch."""
    return [scrub(t) for t in texts]


def scrub_column(frame: pl.DataFrame, column: str = "text") -> pl.DataFrame:
    """``frame`` with PII scrubbed from the string ``column`` (absent column: unchanged).

    Ingestion applies it to review text before the rows are stored.

    >>> scrub_column(pl.DataFrame({"text": ["mail a@b.cn", None]}))["text"].to_list()
    ['mail [EMAIL]', None]
    """
    if column not in frame.columns or frame.is_empty():
        return frame
    return frame.with_columns(pl.col(column).map_elements(scrub, return_dtype=pl.String,
                                                          skip_nulls=True))
