"""Mask personal data in free text before it leaves ``data_access`` (PIPL: minimum necessary).

What is masked, and how it is shown (the forms Chinese government systems commonly display):

* mobile numbers, with or without ``+86``/``0086``, spaces or dashes inside: ``138****5678``;
* landlines with an area code (``0571-8888 6666``, ``(0571)88886666``): ``0571-****6666``;
* 18-digit resident ID numbers (last character a digit or X) and old 15-digit ones: the six-digit
  area code stays, the rest becomes ``*``;
* complainants' names after a marker (来电人, 联系人, 投诉人, 反映人, 姓名, 我叫, 本人 …): the surname
  stays, the given name becomes ``*`` (``来电人王**``); ``王先生`` / ``李女士`` are left as they are;
* exact addresses: building, unit, room and floor numbers and house numbers (``12幢3单元1502室``,
  ``文一路118号``) become ``*``; the road and the community stay, so the text is still useful.

People type numbers in many ways, so matching runs on a normalised shadow of the text (full-width
digits, letters and separators mapped to ASCII one for one); positions line up with the original,
so only the matched spans are replaced and everything else is left exactly as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "*"

# Full-width digits, X, plus, hyphen, space, parentheses → ASCII, one character for one.
_FULL_WIDTH = {ord("０") + i: ord("0") + i for i in range(10)}
_FULL_WIDTH.update({ord("Ｘ"): ord("X"), ord("ｘ"): ord("x"), ord("＋"): ord("+"), ord("－"): ord("-")})
_FULL_WIDTH.update({ord("\u3000"): ord(" "), ord("（"): ord("("), ord("）"): ord(")"), ord("—"): ord("-")})

_SEP = r"[ \-\u00a0]?"  # at most one separator between two digits
_ID_18 = re.compile(rf"(?<![0-9])[1-9](?:{_SEP}[0-9]){{16}}{_SEP}[0-9Xx](?![0-9A-Za-z])")
_ID_15 = re.compile(rf"(?<![0-9])[1-9](?:{_SEP}[0-9]){{14}}(?![0-9])")
_MOBILE = re.compile(rf"(?<![0-9])(?:(?:\+|00)?86{_SEP})?1[3-9](?:{_SEP}[0-9]){{9}}(?![0-9])")
_LANDLINE = re.compile(rf"(?<![0-9])\(?0[1-9][0-9]{{1,2}}\)?{_SEP}[2-9](?:{_SEP}[0-9]){{6,7}}(?![0-9])")

_NAME_MARKERS = ("来电人", "联系人", "投诉人", "反映人", "举报人", "申请人", "当事人", "市民", "姓名", "我叫", "本人")
_NAME_ENDS = (
    r"[，,。.；;：:、\s(（)）!！?？0-9]|$|反映|称|表示|来电|投诉|举报|家住|住在|住|电话|手机|联系|身份证|"
    r"于|在|说|要求|希望|请求|现|今|诉|先生|女士"
)
_NAME = re.compile(
    rf"(?P<marker>{'|'.join(_NAME_MARKERS)})[：:\s]*(?P<surname>[\u4e00-\u9fff])(?!先生|女士|小姐|师傅|老师|同志)(?P<given>[\u4e00-\u9fff]{{1,2}}?)(?={_NAME_ENDS})"
)
# Building / unit / floor / room numbers, and house numbers after a road, lane or alley.
_PREMISES = re.compile(r"[0-9]+(?=[-－]?(?:幢|栋|号楼|单元|室|层|楼))")
_HOUSE_NUMBER = re.compile(r"(?<=[路街巷弄道里村])[0-9]+(?:[-之][0-9]+)?(?=号)")


def _normalised(text: str) -> str:
    return text.translate(_FULL_WIDTH)


def _digit_positions(span: str) -> list[int]:
    return [i for i, char in enumerate(span) if char.isdigit() or char in "Xx"]


def _keep_digits(normal: str, keep_first: int, keep_last: int) -> str:
    """Replace every digit of the span but the first and last few (separators and prefix stay)."""
    digits = _digit_positions(normal)
    hidden = set(digits[keep_first : len(digits) - keep_last if keep_last else None])
    return "".join(MASK if i in hidden else char for i, char in enumerate(normal))


def _mobile(normal: str) -> str:
    digits = _digit_positions(normal)
    # A +86 / 0086 prefix is not part of the eleven digits: keep it, then 3 shown, 4 hidden, 4 shown.
    offset = len(digits) - 11
    hidden = set(digits[offset + 3 : offset + 7])
    return "".join(MASK if i in hidden else char for i, char in enumerate(normal))


def mask_text(text: str | None) -> str | None:
    """``text`` with every phone number, ID number, complainant name and exact address masked."""
    if not text:
        return text
    normal = _normalised(text)
    spans: list[tuple[int, int, str]] = []

    def claim(start: int, end: int, replacement: str) -> None:
        if all(end <= s or start >= e for s, e, _ in spans):
            spans.append((start, end, replacement))

    for match in _ID_18.finditer(normal):
        claim(match.start(), match.end(), _keep_digits(match.group(0), 6, 0))
    for match in _ID_15.finditer(normal):
        claim(match.start(), match.end(), _keep_digits(match.group(0), 6, 0))
    for match in _MOBILE.finditer(normal):
        claim(match.start(), match.end(), _mobile(match.group(0)))
    for match in _LANDLINE.finditer(normal):
        start, end = match.span()
        digits = re.sub(r"[^0-9]", "", match.group(0))
        area = 3 if digits[1] in "12" else 4  # 010 and 02x are the three-digit area codes
        claim(start, end, _keep_digits(match.group(0), area, 4))
    for match in _NAME.finditer(normal):
        start, end = match.span("given")
        claim(start, end, MASK * (end - start))
    for pattern in (_PREMISES, _HOUSE_NUMBER):
        for match in pattern.finditer(normal):
            start, end = match.span()
            claim(start, end, MASK * (end - start))
    if not spans:
        return text
    parts: list[str] = []
    cursor = 0
    for start, end, replacement in sorted(spans):
        parts.append(text[cursor:start])
        # Matching ran on the normalised text; keep the original characters the mask leaves visible.
        parts.append("".join(r if r == MASK else o for r, o in zip(replacement, text[start:end], strict=True)))
        cursor = end
    parts.append(text[cursor:])
    return "".join(parts)


def mask_values(values: Iterable[str | None]) -> list[str | None]:
    """``mask_text`` over a column's values."""
    return [mask_text(value) for value in values]
