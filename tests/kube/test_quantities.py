"""Resource quantities as resource.Quantity defines them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paramedic import errors
from paramedic.kube import quantities


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500m", Decimal("0.5")),
        ("0.5", Decimal("0.5")),
        (".5", Decimal("0.5")),
        ("2", Decimal(2)),
        ("+2", Decimal(2)),
        ("-1", Decimal(-1)),
        ("1e3", Decimal(1000)),
        ("1E3", Decimal(1000)),
        ("1e-3", Decimal("0.001")),
        ("2E", Decimal(2 * 10**18)),
        ("1k", Decimal(1000)),
        ("1.5G", Decimal(1_500_000_000)),
        ("128M", Decimal(128_000_000)),
        ("100Ki", Decimal(102_400)),
        ("1Mi", Decimal(1024**2)),
        ("1Gi", Decimal(1024**3)),
        ("1.5Gi", Decimal(3 * 1024**3 // 2)),
        ("1Ti", Decimal(1024**4)),
        ("1Pi", Decimal(1024**5)),
        ("1Ei", Decimal(1024**6)),
        ("250000000n", Decimal("0.25")),
        ("12u", Decimal("0.000012")),
        (" 1Gi ", Decimal(1024**3)),
        (3, Decimal(3)),
        (0.25, Decimal("0.25")),
    ],
)
def test_parse_quantity(text, value):
    assert quantities.parse(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "",
        "  ",
        "abc",
        "1GB",
        "1gi",
        "5 Gi",
        "1..5",
        "Gi",
        "1e",
        "1e3.5",
        "1e999",
        "0x10",
        None,
        True,
        [],
        float("nan"),
    ],
)
def test_garbage_is_a_clear_input_error(text):
    with pytest.raises(errors.InputError, match=r"is not a quantity|unknown suffix"):
        quantities.parse(text)


@pytest.mark.parametrize(
    ("text", "cores"), [("500m", Decimal("0.5")), ("2", Decimal(2)), ("1500m", Decimal("1.5"))]
)
def test_cpu_cores(text, cores):
    assert quantities.cpu_cores(text) == cores


@pytest.mark.parametrize(
    ("text", "size"),
    [("1Gi", 1073741824), ("1.5G", 1_500_000_000), ("0.1", 1), ("512Mi", 536870912)],
)
def test_bytes_round_up_to_whole_bytes(text, size):
    assert quantities.bytes_(text) == size


@pytest.mark.parametrize(
    ("cores", "text"),
    [(Decimal("0.5"), "500m"), (Decimal(2), "2"), (1.25, "1250m"), (Decimal("0.0001"), "1m")],
)
def test_format_cpu(cores, text):
    assert quantities.format_cpu(cores) == text


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (1024**3, "1Gi"),
        (1536 * 1024**2, "1536Mi"),
        (100 * 1024, "100Ki"),
        (1000, "1000"),
        (2 * 1024**4, "2Ti"),
    ],
)
def test_format_bytes_keeps_an_integer_in_the_largest_unit(size, text):
    assert quantities.format_bytes(size) == text
    assert quantities.bytes_(text) == size


@pytest.mark.parametrize(
    ("size", "rounded"),
    [
        (1, 64 * 1024**2),
        (500 * 1024**2, 512 * 1024**2),
        (1024**3, 1024**3),
        (1024**3 + 1, 1280 * 1024**2),
    ],
)
def test_round_up_bytes_to_values_people_write(size, rounded):
    assert quantities.round_up_bytes(size) == rounded


@pytest.mark.parametrize(
    ("cores", "rounded"),
    [(Decimal("0.01"), Decimal("0.1")), (Decimal("0.75"), Decimal("0.8")), (2, Decimal(2))],
)
def test_round_up_cpu_to_100m(cores, rounded):
    assert quantities.round_up_cpu(cores) == rounded


@pytest.mark.parametrize(
    ("size", "text"), [(1932735283, "1.8Gi"), (524288000, "500Mi"), (512, "512B"), (1024**3, "1Gi")]
)
def test_human_bytes(size, text):
    assert quantities.human_bytes(size) == text


@given(st.integers(min_value=0, max_value=2**62))
def test_format_bytes_round_trips(size):
    assert quantities.bytes_(quantities.format_bytes(size)) == size


@given(st.integers(min_value=1, max_value=10**6))
def test_format_cpu_round_trips_millicores(milli):
    assert (
        quantities.cpu_cores(quantities.format_cpu(Decimal(milli) / 1000)) == Decimal(milli) / 1000
    )


@given(st.text(max_size=12))
def test_any_text_parses_or_is_an_input_error(text):
    try:
        quantities.parse(text)
    except errors.InputError as exc:
        assert "\n" not in str(exc)
