"""Kubernetes resource quantities (`500m`, `1Gi`, `1e3`, `0.5`, `2E`) as numbers, and back.

Follows apimachinery's resource.Quantity grammar:

    <quantity> ::= <signedNumber><suffix>
    <suffix>   ::= Ki | Mi | Gi | Ti | Pi | Ei          (binary SI, powers of 1024)
                 | n | u | m | "" | k | M | G | T | P | E (decimal SI)
                 | e<signedNumber> | E<signedNumber>     (decimal exponent)

`E` alone is exa (10^18); `E` followed by digits is an exponent (`1E3` = 1000).
Values are exact `Decimal`s; `cpu_cores` and `bytes_` are the two readings checks need, and
`format_cpu` / `format_bytes` write the numbers that fixes propose (`750m`, `1536Mi`).
"""

from __future__ import annotations

import decimal
import re
from decimal import Decimal
from typing import Any

from paramedic import errors

_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_NUMBER = re.compile(r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(.*)$")
_EXPONENT = re.compile(r"^[eE]([+-]?[0-9]+)$")
_MAX_EXPONENT = 100
"""Bigger exponents are not quantities anyone means (and would make Decimal arithmetic slow)."""

MI = 1024**2
GI = 1024**3


def parse(value: Any, *, what: str = "quantity") -> Decimal:
    """The exact value of a quantity; ints and floats (as YAML may give them) are accepted too."""
    if isinstance(value, bool):
        raise errors.InputError(f"{what}: {value!r} is not a quantity")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise errors.InputError(f"{what}: {value!r} is not a quantity")
        return Decimal(repr(value))
    if not isinstance(value, str):
        raise errors.InputError(f"{what}: {value!r} is not a quantity")
    text = value.strip()
    match = _NUMBER.match(text)
    if not match or not text:
        raise errors.InputError(
            f"{what}: {value!r} is not a quantity (expected e.g. 500m, 1Gi, 0.5)"
        )
    number, suffix = Decimal(match.group(1)), match.group(2)
    if suffix in _BINARY:
        return number * (Decimal(1024) ** _BINARY[suffix])
    if suffix in _DECIMAL:
        return number.scaleb(_DECIMAL[suffix])
    exp = _EXPONENT.match(suffix)
    if exp and abs(int(exp.group(1))) <= _MAX_EXPONENT:
        return number.scaleb(int(exp.group(1)))
    raise errors.InputError(
        f"{what}: {value!r} has an unknown suffix {suffix!r} (Ki, Mi, Gi, m, k, M, G, e3, ...)"
    )


def cpu_cores(value: Any) -> Decimal:
    """CPU in cores: '500m' -> 0.5, '2' -> 2, '250000000n' (metrics API) -> 0.25."""
    return parse(value, what="cpu")


def bytes_(value: Any) -> int:
    """Memory in bytes, rounded up as the API does: '1Gi' -> 1073741824, '1.5G' -> 1500000000."""
    amount = parse(value, what="memory")
    return int(amount.to_integral_value(rounding=decimal.ROUND_CEILING))


def format_cpu(cores: Decimal | float) -> str:
    """A CPU amount as kubectl users write it: whole cores as '2', else millicores '750m'."""
    milli = int((Decimal(str(cores)) * 1000).to_integral_value(rounding=decimal.ROUND_CEILING))
    return str(milli // 1000) if milli % 1000 == 0 else f"{milli}m"


def format_bytes(amount: int | Decimal) -> str:
    """Bytes in the largest binary unit that keeps an integer: 1610612736 -> '1536Mi'."""
    value = int(amount)
    for suffix, power in (("Ti", 4), ("Gi", 3), ("Mi", 2), ("Ki", 1)):
        unit = 1024**power
        if value >= unit and value % unit == 0:
            return f"{value // unit}{suffix}"
    return str(value)


def human_bytes(amount: int | Decimal) -> str:
    """Approximate, for reading: 1932735283 -> '1.8Gi', 524288000 -> '500Mi'."""
    value = float(amount)
    for suffix, unit in (("Gi", GI), ("Mi", MI), ("Ki", 1024)):
        if value >= unit:
            scaled = value / unit
            return (
                f"{scaled:.0f}{suffix}"
                if scaled >= 100 or scaled.is_integer()
                else f"{scaled:.1f}{suffix}"
            )
    return f"{value:.0f}B"


def round_up_bytes(amount: int | Decimal) -> int:
    """A memory size rounded up to a value people write: 64Mi steps below 1Gi, 256Mi above."""
    value = int(amount)
    step = 64 * MI if value < GI else 256 * MI
    return -(-value // step) * step


def round_up_cpu(cores: Decimal | float) -> Decimal:
    """A CPU amount rounded up to 100m steps (at least 100m)."""
    tenths = (Decimal(str(cores)) * 10).to_integral_value(rounding=decimal.ROUND_CEILING)
    return max(tenths, Decimal(1)) / 10
