"""Serial formats, the guessing policy of codes.md §6, and both generators."""

from __future__ import annotations

import math
import os
import string
from collections import Counter

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import given, settings
from hypothesis import strategies as st

from serialization.errors import CodeFormatError, SerializationError, SerialPolicyError
from serialization.rules import SerialGenerator, SerialSpec
from serialization.serials import (
    CSET_82,
    DIGITS,
    MAX_GUESS_PROBABILITY,
    SAFE_ALPHANUMERIC,
    CsprngSerials,
    Ff1Serials,
    SerialFormat,
    check_serial_policy,
    derive_product_key,
    guess_probability,
    load_master_key,
    make_master_key,
    tweak_for,
)

ALNUM36 = string.digits + string.ascii_uppercase
KEY = bytes(range(32))
TWEAK = b"04006381333931"


def spec(alphabet: str, length: int, volume: int, generator: str = "csprng") -> SerialSpec:
    return SerialSpec(SerialGenerator(generator), alphabet, length, volume)


# --- formats ---------------------------------------------------------------------------


def test_default_alphabets() -> None:
    assert DIGITS == "0123456789"
    assert set(SAFE_ALPHANUMERIC) <= set(ALNUM36)
    assert not set("IOQSZ") & set(SAFE_ALPHANUMERIC)
    assert len(set(SAFE_ALPHANUMERIC)) == len(SAFE_ALPHANUMERIC) == 31
    assert set(SAFE_ALPHANUMERIC) <= CSET_82
    assert len(CSET_82) == 82


def test_space() -> None:
    assert SerialFormat(DIGITS, 12).space == 10**12
    assert SerialFormat(SAFE_ALPHANUMERIC, 20).space == 31**20


@pytest.mark.parametrize(
    ("alphabet", "length", "message", "position"),
    [
        ("0123456789", 0, "1 to 20 characters", None),
        ("0123456789", 21, "1 to 20 characters", None),
        ("0", 5, "at least 2", None),
        ("01231", 5, "'1' appears twice", 4),
        ("01#", 5, "'#' is not in GS1 character set 82", 2),
        ("01 ", 5, "not in GS1 character set 82", 2),
        ("01é", 5, "not in GS1 character set 82", 2),
    ],
)
def test_format_is_validated(
    alphabet: str, length: int, message: str, position: int | None
) -> None:
    with pytest.raises(SerialPolicyError, match=message) as info:
        SerialFormat(alphabet, length)
    assert info.value.position == position


def test_format_is_frozen() -> None:
    fmt = SerialFormat(DIGITS, 12)
    with pytest.raises(AttributeError):
        fmt.length = 13  # type: ignore[misc]


# --- policy ----------------------------------------------------------------------------


def test_guess_probability() -> None:
    assert guess_probability(10**7, 10**12) == pytest.approx(1e-5)
    assert guess_probability(0, 10) == 0.0
    assert guess_probability(20, 10) == 1.0
    with pytest.raises(SerializationError):
        guess_probability(1, 0)
    with pytest.raises(SerializationError):
        guess_probability(-1, 10)


def test_codes_md_table_12_digits_is_accepted() -> None:
    check_serial_policy(spec(DIGITS, 12, 10**7))
    assert f"{guess_probability(10**7, 10**12):.1e}" == "1.0e-05"


def test_codes_md_table_10_digits_is_refused_with_the_numbers() -> None:
    with pytest.raises(SerialPolicyError) as info:
        check_serial_policy(spec(DIGITS, 10, 5 * 10**6))
    assert info.value.message == (
        "planned volume 5,000,000 in a space of 10^10 gives a guessing probability of "
        "5.0e-04, at least the EU FMD limit of 1e-04"
    )
    assert info.value.hint == "add 1 character, for 5.0e-05, or use a larger alphabet"


def test_codes_md_table_13_alphanumerics_is_accepted() -> None:
    check_serial_policy(spec(ALNUM36, 13, 10**9, "ff1"))
    assert f"{guess_probability(10**9, 36**13):.1e}" == "5.9e-12"


def test_limit_is_strict() -> None:
    assert (MAX_GUESS_PROBABILITY.numerator, MAX_GUESS_PROBABILITY.denominator) == (1, 10_000)
    with pytest.raises(SerialPolicyError, match=r"1\.0e-04, at least"):
        check_serial_policy(spec(DIGITS, 10, 10**6))
    check_serial_policy(spec(DIGITS, 10, 10**6 - 1))


def test_refusal_suggests_several_characters() -> None:
    with pytest.raises(SerialPolicyError) as info:
        check_serial_policy(spec(DIGITS, 8, 10**9))
    assert info.value.hint == "add 6 characters, for 1.0e-05, or use a larger alphabet"


def test_refusal_when_no_length_is_enough() -> None:
    with pytest.raises(SerialPolicyError) as info:
        check_serial_policy(spec("01", 20, 10**9))
    assert info.value.hint is not None
    assert "no length up to 20" in info.value.hint


@pytest.mark.parametrize("volume", [0, -5])
def test_non_positive_volume_is_refused(volume: int) -> None:
    with pytest.raises(SerialPolicyError, match="must be positive") as info:
        check_serial_policy(spec(DIGITS, 12, volume))
    assert info.value.field == "planned_volume"


def test_small_ff1_domain_is_refused_even_when_odds_are_fine() -> None:
    check_serial_policy(spec(DIGITS, 5, 5))
    with pytest.raises(SerialPolicyError, match=r"10\^5 = 100,000 is below the minimum") as info:
        check_serial_policy(spec(DIGITS, 5, 5, "ff1"))
    assert info.value.hint == "add 1 character or use a larger alphabet"
    check_serial_policy(spec(DIGITS, 6, 5, "ff1"))


def test_bad_alphabet_in_spec_is_refused() -> None:
    with pytest.raises(SerialPolicyError, match="appears twice"):
        check_serial_policy(spec("0012345678", 12, 10))


# --- CSPRNG ----------------------------------------------------------------------------


def chi_square(text: str, alphabet: str) -> float:
    counts = Counter(text)
    expected = len(text) / len(alphabet)
    return sum((counts[char] - expected) ** 2 / expected for char in alphabet)


def chi_square_threshold(df: int, false_alarm: float) -> float:
    """x with P(chi2_df >= x) <= false_alarm, from the Chernoff bound (x/k)^(k/2) e^((k-x)/2)."""

    def log_bound(x: float) -> float:
        return df / 2 * math.log(x / df) + (df - x) / 2

    low, high = float(df), float(df)
    while log_bound(high) > math.log(false_alarm):
        high *= 2
    for _ in range(100):
        middle = (low + high) / 2
        low, high = (low, middle) if log_bound(middle) <= math.log(false_alarm) else (middle, high)
    return high


def test_csprng_draws_only_alphabet_characters_of_the_right_length() -> None:
    fmt = SerialFormat(SAFE_ALPHANUMERIC, 12)
    serials = CsprngSerials(fmt).draw(5_000)
    assert len(serials) == 5_000
    assert all(len(serial) == 12 for serial in serials)
    assert set("".join(serials)) <= set(SAFE_ALPHANUMERIC)
    assert CsprngSerials(fmt).draw(0) == []
    with pytest.raises(SerializationError):
        CsprngSerials(fmt).draw(-1)


@pytest.mark.parametrize("alphabet", [SAFE_ALPHANUMERIC, DIGITS, "".join(sorted(CSET_82))])
def test_csprng_characters_are_uniform(alphabet: str) -> None:
    text = "".join(CsprngSerials(SerialFormat(alphabet, 20)).draw(10_000))
    assert len(text) == 200_000
    assert chi_square(text, alphabet) < chi_square_threshold(len(alphabet) - 1, 1e-9)


def test_uniformity_check_catches_modulo_bias() -> None:
    biased = "".join(SAFE_ALPHANUMERIC[byte % 31] for byte in os.urandom(200_000))
    threshold = chi_square_threshold(30, 1e-9)
    assert chi_square(biased, SAFE_ALPHANUMERIC) > threshold


def test_csprng_draws_differ() -> None:
    generator = CsprngSerials(SerialFormat(SAFE_ALPHANUMERIC, 12))
    first, second = generator.draw(1_000), generator.draw(1_000)
    assert first != second
    assert len(set(first) | set(second)) == 2_000


# --- FF1 serials -----------------------------------------------------------------------


def test_ff1_serials_are_distinct_in_a_six_digit_domain() -> None:
    serials = Ff1Serials(KEY, TWEAK, SerialFormat(DIGITS, 6)).serials(0, 20_000)
    assert len(set(serials)) == 20_000
    assert all(len(serial) == 6 and serial.isdigit() for serial in serials)


def test_cycle_walking_is_a_bijection_on_a_small_domain() -> None:
    generator = Ff1Serials(
        KEY, TWEAK, SerialFormat(DIGITS, 4), domain_size=1_000, allow_small_domain=True
    )
    serials = generator.serials(0, 1_000)
    assert sorted(int(serial) for serial in serials) == list(range(1_000))
    assert [generator.serial(counter) for counter in range(1_000)] == serials
    assert [generator.counter_of(serial) for serial in serials] == list(range(1_000))


def test_cycle_walking_stays_in_range_on_a_large_domain() -> None:
    generator = Ff1Serials(KEY, TWEAK, SerialFormat(DIGITS, 12), domain_size=10**11 + 7)
    serials = generator.serials(10**11 - 500, 507)
    assert all(int(serial) < 10**11 + 7 for serial in serials)
    assert len(set(serials)) == 507
    assert generator.counter_of(serials[-1]) == 10**11 + 6


@settings(max_examples=100, deadline=None)
@given(
    key=st.binary(min_size=32, max_size=32),
    tweak=st.binary(max_size=20),
    alphabet=st.sampled_from([DIGITS, SAFE_ALPHANUMERIC, ALNUM36, "".join(sorted(CSET_82))]),
    length=st.integers(6, 20),
    data=st.data(),
)
def test_ff1_serial_round_trip(
    key: bytes, tweak: bytes, alphabet: str, length: int, data: st.DataObject
) -> None:
    fmt = SerialFormat(alphabet, length)
    generator = Ff1Serials(key, tweak, fmt)
    counter = data.draw(st.integers(0, fmt.space - 1))
    serial = generator.serial(counter)
    assert len(serial) == length
    assert set(serial) <= set(alphabet)
    assert generator.counter_of(serial) == counter


def test_ff1_serials_are_deterministic_and_keyed() -> None:
    fmt = SerialFormat(SAFE_ALPHANUMERIC, 12)
    first = Ff1Serials(KEY, TWEAK, fmt).serials(1_000, 100)
    assert Ff1Serials(KEY, TWEAK, fmt).serials(1_000, 100) == first
    assert [Ff1Serials(KEY, TWEAK, fmt).serial(c) for c in range(1_000, 1_100)] == first
    assert Ff1Serials(KEY, b"other", fmt).serials(1_000, 100) != first
    assert Ff1Serials(bytes(32), TWEAK, fmt).serials(1_000, 100) != first


def test_ff1_serials_bounds() -> None:
    generator = Ff1Serials(KEY, TWEAK, SerialFormat(DIGITS, 6))
    assert generator.domain_size == 10**6
    assert generator.serials(5, 0) == []
    for bad in (-1, 10**6):
        with pytest.raises(SerializationError, match="outside"):
            generator.serial(bad)
    with pytest.raises(SerializationError, match="outside"):
        generator.serials(10**6 - 1, 2)
    with pytest.raises(SerializationError):
        generator.serials(0, -1)


def test_ff1_serials_refuse_unsafe_domains() -> None:
    with pytest.raises(SerialPolicyError, match="below the minimum of 1,000,000"):
        Ff1Serials(KEY, TWEAK, SerialFormat(DIGITS, 5))
    with pytest.raises(SerialPolicyError, match="between 1 and"):
        Ff1Serials(KEY, TWEAK, SerialFormat(DIGITS, 6), domain_size=10**6 + 1)
    with pytest.raises(SerialPolicyError, match="cycle walking would be too slow"):
        Ff1Serials(KEY, TWEAK, SerialFormat(DIGITS, 12), domain_size=10**6)
    with pytest.raises(SerializationError, match=">= 100"):
        Ff1Serials(KEY, TWEAK, SerialFormat(DIGITS, 1), allow_small_domain=True)


def test_counter_of_rejects_foreign_serials() -> None:
    generator = Ff1Serials(KEY, TWEAK, SerialFormat(DIGITS, 7), domain_size=2_000_000)
    with pytest.raises(CodeFormatError, match="7 characters, not 6"):
        generator.counter_of("123456")
    with pytest.raises(CodeFormatError, match="'A' is not in the serial alphabet") as info:
        generator.counter_of("123A567")
    assert info.value.position == 3
    with pytest.raises(CodeFormatError, match="outside this generator's domain"):
        generator.counter_of("2000000")


# --- keys and tweaks -------------------------------------------------------------------


def test_derive_product_key() -> None:
    master = make_master_key()
    key = derive_product_key(master, "PROD-1")
    assert len(key) == 32
    assert derive_product_key(master, "PROD-1") == key
    assert derive_product_key(master, "PROD-2") != key
    assert derive_product_key(make_master_key(), "PROD-1") != key
    expected = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"tracegate ff1 serial key v1|PROD-1"
    ).derive(master)
    assert key == expected
    with pytest.raises(SerialPolicyError, match="32 bytes, not 16"):
        derive_product_key(bytes(16), "PROD-1")
    with pytest.raises(SerializationError, match="empty"):
        derive_product_key(master, "")


def test_tweak_for() -> None:
    assert tweak_for("04006381333931") == b"04006381333931"
    assert tweak_for("4006381333931") == b"04006381333931"
    assert tweak_for("96385074") == b"00000096385074"
    assert tweak_for("4006381333932") == b"4006381333932"
    assert tweak_for("PROD-1") == b"PROD-1"
    assert tweak_for("药品") == "药品".encode()
    with pytest.raises(SerializationError):
        tweak_for("")


def test_master_keys() -> None:
    key = make_master_key()
    assert len(key) == 32
    assert make_master_key() != key
    assert load_master_key(key.hex()) == key
    assert load_master_key(f"  {key.hex().upper()}\n") == key


def test_load_master_key_errors_do_not_echo_the_key() -> None:
    secret = make_master_key().hex()
    with pytest.raises(SerialPolicyError, match="64 hexadecimal characters, not 62") as info:
        load_master_key(secret[:62])
    assert secret[:62] not in str(info.value)
    with pytest.raises(SerialPolicyError, match="not hexadecimal") as info:
        load_master_key(secret[:10] + "g" + secret[11:])
    assert info.value.position == 10
    assert secret[:10] not in str(info.value)
    with pytest.raises(SerialPolicyError, match="placeholder"):
        load_master_key("00" * 32)
