"""Mask Danish CPR numbers before text is stored: the transcript must not hold them."""

from __future__ import annotations

import re

CPR_MASK = "[CPR-nummer skjult]"

# DDMMYY then the 4-digit serial, joined by nothing, a dash (also typographic ones) or a space.
# Day and month must be plausible; the digit look-arounds keep 8-digit phone numbers, longer digit
# runs and dates like 12-05-2024 (whose groups are 2-2-4 digits) untouched.
_CPR = re.compile(
    r"(?<![\d+])"
    r"(?:0[1-9]|[12]\d|3[01])"  # day
    r"(?:0[1-9]|1[0-2])"  # month
    r"\d{2}"  # year
    r"[-‐‑–— ]?"
    r"\d{4}"
    r"(?![\d])"
)


def mask_cpr(text: str) -> str:
    return _CPR.sub(CPR_MASK, text)
