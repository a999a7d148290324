"""The unified social credit code (统一社会信用代码), GB 32100-2015.

18 characters from the code set 0-9 and the capitals without I, O, S, V, Z: registration
authority (1), organisation kind (1), administrative division (6 digits), organisation code
(9), and a check character over the first 17, weighted by 3^i mod 31.
"""

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [pow(3, i, 31) for i in range(17)]


def credit_code_check_char(first17: str) -> str:
    total = sum(CHARSET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> str | None:
    """Why the code is not valid (an English sentence), or None when it is."""
    if len(code) != 18:
        return f"A unified social credit code has 18 characters, not {len(code)}."
    bad = sorted({c for c in code if c not in CHARSET})
    if bad:
        return f"Characters not allowed in a credit code: {''.join(bad)}."
    if not code[2:8].isdigit():
        return "Characters 3 to 8 of a credit code are the division code (digits)."
    expected = credit_code_check_char(code[:17])
    if code[17] != expected:
        return f"The check character is wrong (expected {expected})."
    return None
