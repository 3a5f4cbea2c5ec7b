from __future__ import annotations

import pytest

from bot.store.cpr import CPR_MASK, mask_cpr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mit CPR er 010190-1234", f"Mit CPR er {CPR_MASK}"),
        ("cpr: 0101901234.", f"cpr: {CPR_MASK}."),
        ("311299 1234 er mit nummer", f"{CPR_MASK} er mit nummer"),
        ("Født 150575–4321", f"Født {CPR_MASK}"),  # en dash from a phone keyboard
        ("a 010190-1234 og b 020290-5678", f"a {CPR_MASK} og b {CPR_MASK}"),
        ("(CPR:121212-1212)", f"(CPR:{CPR_MASK})"),
        # not CPR numbers
        ("Ring på 12345678", "Ring på 12345678"),
        ("Ring på 20 30 40 50 eller +45 20304050", "Ring på 20 30 40 50 eller +45 20304050"),
        ("+4531011234", "+4531011234"),  # phone with country code, no separator
        ("Mødet er 12-05-2024 kl. 10", "Mødet er 12-05-2024 kl. 10"),
        ("Beløbet er 1.250.000,00 kr.", "Beløbet er 1.250.000,00 kr."),
        ("Jeg skylder 1234567890 kr", "Jeg skylder 1234567890 kr"),  # month 34
        ("320190-1234", "320190-1234"),  # day 32
        ("011390-1234", "011390-1234"),  # month 13
        ("000190-1234", "000190-1234"),  # day 00
        ("Kontonr. 12345678901234", "Kontonr. 12345678901234"),  # longer digit run
        ("Sag 010190-12345", "Sag 010190-12345"),  # five-digit tail
        ("", ""),
    ],
)
def test_mask_cpr(text: str, expected: str) -> None:
    assert mask_cpr(text) == expected
