"""FF1 against NIST's samples and against a line-by-line reading of SP 800-38G."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from serialization.errors import SerializationError
from serialization.ff1 import FF1

KEY_128 = bytes.fromhex("2B7E151628AED2A6ABF7158809CF4F3C")
KEY_192 = bytes.fromhex("2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F")
KEY_256 = bytes.fromhex("2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94")
BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"

NIST_SAMPLES = [
    pytest.param(KEY_128, 10, "0123456789", "", "2433477484", id="sample1"),
    pytest.param(KEY_128, 10, "0123456789", "39383736353433323130", "6124200773", id="sample2"),
    pytest.param(
        KEY_128,
        36,
        "0123456789abcdefghi",
        "3737373770717273373737",
        "a9tv40mll9kdu509eum",
        id="sample3",
    ),
    pytest.param(KEY_192, 10, "0123456789", "", "2830668132", id="sample4"),
    pytest.param(KEY_192, 10, "0123456789", "39383736353433323130", "2496655549", id="sample5"),
    pytest.param(
        KEY_192,
        36,
        "0123456789abcdefghi",
        "3737373770717273373737",
        "xbj3kv35jrawxv32ysr",
        id="sample6",
    ),
    pytest.param(KEY_256, 10, "0123456789", "", "6657667009", id="sample7"),
    pytest.param(KEY_256, 10, "0123456789", "39383736353433323130", "1001623463", id="sample8"),
    pytest.param(
        KEY_256,
        36,
        "0123456789abcdefghi",
        "3737373770717273373737",
        "xs8a0azh2avyalyzuwd",
        id="sample9",
    ),
]


def numerals(text: str) -> list[int]:
    return [BASE36.index(char) for char in text]


def text(values: Sequence[int]) -> str:
    return "".join(BASE36[value] for value in values)


def reference_ff1(
    key: bytes, radix: int, x: Sequence[int], tweak: bytes, *, decrypt: bool
) -> list[int]:
    """SP 800-38G algorithms 7 and 8 step by step, with no precomputation at all."""
    aes = Cipher(algorithms.AES(key), modes.ECB()).encryptor()

    def num(digits: Sequence[int]) -> int:
        value = 0
        for digit in digits:
            value = value * radix + digit
        return value

    def string_of(value: int, m: int) -> list[int]:
        digits = []
        for _ in range(m):
            value, digit = divmod(value, radix)
            digits.append(digit)
        return digits[::-1]

    def prf(data: bytes) -> bytes:
        y = bytes(16)
        for start in range(0, len(data), 16):
            block = bytes(p ^ q for p, q in zip(y, data[start : start + 16], strict=True))
            y = aes.update(block)
        return y

    n, t = len(x), len(tweak)
    u = n // 2
    v = n - u
    a, b_half = list(x[:u]), list(x[u:])
    bits = 0
    while 2**bits < radix**v:
        bits += 1
    b = (bits + 7) // 8
    d = 4 * ((b + 3) // 4) + 4
    p = bytes([1, 2, 1]) + radix.to_bytes(3, "big") + bytes([10, u % 256])
    p += n.to_bytes(4, "big") + t.to_bytes(4, "big")
    for i in reversed(range(10)) if decrypt else range(10):
        source = a if decrypt else b_half
        q = tweak + bytes((-t - b - 1) % 16) + bytes([i]) + num(source).to_bytes(b, "big")
        r = prf(p + q)
        s = r
        for j in range(1, (d + 15) // 16):
            s += aes.update(bytes(ri ^ ji for ri, ji in zip(r, j.to_bytes(16, "big"), strict=True)))
        y = int.from_bytes(s[:d], "big")
        m = u if i % 2 == 0 else v
        if decrypt:
            c = (num(b_half) - y) % radix**m
            a, b_half = string_of(c, m), a
        else:
            c = (num(a) + y) % radix**m
            a, b_half = b_half, string_of(c, m)
    return a + b_half


@st.composite
def ff1_inputs(draw: st.DrawFn, max_length: int = 40) -> tuple[int, list[int], bytes]:
    radix = draw(st.sampled_from([2, 3, 10, 26, 31, 36, 62, 82, 255, 256, 257, 1000, 65536]))
    min_length = 2
    while radix**min_length < 100:
        min_length += 1
    length = draw(st.integers(min_length, max(min_length, max_length)))
    digits = draw(st.lists(st.integers(0, radix - 1), min_size=length, max_size=length))
    tweak = draw(st.binary(max_size=40))
    return radix, digits, tweak


@pytest.mark.parametrize(("key", "radix", "plain", "tweak", "cipher"), NIST_SAMPLES)
def test_nist_samples(key: bytes, radix: int, plain: str, tweak: str, cipher: str) -> None:
    ff1 = FF1(key, radix)
    assert text(ff1.encrypt(numerals(plain), bytes.fromhex(tweak))) == cipher
    assert text(ff1.decrypt(numerals(cipher), bytes.fromhex(tweak))) == plain


@pytest.mark.parametrize(("key", "radix", "plain", "tweak", "cipher"), NIST_SAMPLES)
def test_reference_reproduces_nist_samples(
    key: bytes, radix: int, plain: str, tweak: str, cipher: str
) -> None:
    out = reference_ff1(key, radix, numerals(plain), bytes.fromhex(tweak), decrypt=False)
    assert text(out) == cipher


@pytest.mark.parametrize(("key", "radix", "plain", "tweak", "cipher"), NIST_SAMPLES)
def test_int_api_matches_nist_samples(
    key: bytes, radix: int, plain: str, tweak: str, cipher: str
) -> None:
    ff1 = FF1(key, radix)
    x, y = int(plain, radix), int(cipher, radix)
    assert ff1.encrypt_int(x, len(plain), bytes.fromhex(tweak)) == y
    assert ff1.decrypt_int(y, len(plain), bytes.fromhex(tweak)) == x
    assert ff1.encrypt_ints([x, x], len(plain), bytes.fromhex(tweak)) == [y, y]


@settings(max_examples=150, deadline=None)
@given(inputs=ff1_inputs(), key=st.sampled_from([KEY_128, KEY_192, KEY_256]))
def test_matches_reference_including_multi_block_rounds(
    inputs: tuple[int, list[int], bytes], key: bytes
) -> None:
    radix, digits, tweak = inputs
    ff1 = FF1(key, radix)
    encrypted = ff1.encrypt(digits, tweak)
    assert encrypted == reference_ff1(key, radix, digits, tweak, decrypt=False)
    assert ff1.decrypt(digits, tweak) == reference_ff1(key, radix, digits, tweak, decrypt=True)


@settings(max_examples=200, deadline=None)
@given(inputs=ff1_inputs(max_length=24), key=st.binary(min_size=32, max_size=32))
def test_round_trip(inputs: tuple[int, list[int], bytes], key: bytes) -> None:
    radix, digits, tweak = inputs
    ff1 = FF1(key, radix)
    encrypted = ff1.encrypt(digits, tweak)
    assert len(encrypted) == len(digits)
    assert all(0 <= value < radix for value in encrypted)
    assert ff1.decrypt(encrypted, tweak) == digits


@settings(max_examples=100, deadline=None)
@given(inputs=ff1_inputs(max_length=30))
def test_int_api_agrees_with_numeral_api(inputs: tuple[int, list[int], bytes]) -> None:
    radix, digits, tweak = inputs
    ff1 = FF1(KEY_128, radix)
    x = 0
    for digit in digits:
        x = x * radix + digit
    y = 0
    for digit in ff1.encrypt(digits, tweak):
        y = y * radix + digit
    assert ff1.encrypt_int(x, len(digits), tweak) == y
    assert ff1.decrypt_int(y, len(digits), tweak) == x
    assert ff1.encrypt_ints([x, 0, x], len(digits), tweak)[::2] == [y, y]


@pytest.mark.parametrize(("radix", "length"), [(10, 3), (2, 10), (36, 2), (256, 2)])
def test_is_a_permutation_of_a_whole_small_domain(radix: int, length: int) -> None:
    ff1 = FF1(KEY_128, radix)
    size = radix**length
    outputs = ff1.encrypt_ints(range(size), length, b"tweak")
    assert sorted(outputs) == list(range(size))
    assert [ff1.decrypt_int(y, length, b"tweak") for y in outputs] == list(range(size))


@pytest.mark.parametrize(("radix", "length"), [(36, 12), (36, 20), (10, 30), (65536, 30)])
def test_batch_equals_one_by_one(radix: int, length: int) -> None:
    ff1 = FF1(KEY_256, radix)
    xs = [(7919 * i) ** 3 % radix**length for i in range(50)]
    assert ff1.encrypt_ints(xs, length, b"04006381333931") == [
        ff1.encrypt_int(x, length, b"04006381333931") for x in xs
    ]


def test_tweak_and_key_change_the_permutation() -> None:
    base = FF1(KEY_128, 36).encrypt_ints(range(100), 12, b"a")
    assert FF1(KEY_128, 36).encrypt_ints(range(100), 12, b"b") != base
    assert FF1(KEY_192, 36).encrypt_ints(range(100), 12, b"a") != base


def test_many_tweaks_stay_correct_past_the_plan_cache() -> None:
    ff1 = FF1(KEY_128, 10)
    tweaks = [str(i).encode() for i in range(600)]
    first = [ff1.encrypt_int(123456789, 10, tweak) for tweak in tweaks]
    fresh = [FF1(KEY_128, 10).encrypt_int(123456789, 10, tweak) for tweak in tweaks]
    assert first == fresh


@pytest.mark.parametrize("key", [b"", bytes(15), bytes(20), bytes(33)])
def test_rejects_bad_key_length(key: bytes) -> None:
    with pytest.raises(SerializationError, match="16, 24 or 32 bytes"):
        FF1(key, 10)


@pytest.mark.parametrize("radix", [-1, 0, 1, 65537])
def test_rejects_bad_radix(radix: int) -> None:
    with pytest.raises(SerializationError, match="radix"):
        FF1(KEY_128, radix)


def test_rejects_bad_inputs() -> None:
    ff1 = FF1(KEY_128, 10)
    with pytest.raises(SerializationError, match="numeral 10") as info:
        ff1.encrypt([1, 2, 10, 4], b"")
    assert info.value.position == 2
    with pytest.raises(SerializationError, match="radix"):
        ff1.encrypt([1], b"")
    with pytest.raises(SerializationError, match=">= 100"):
        FF1(KEY_128, 2).encrypt_int(0, 6, b"")
    with pytest.raises(SerializationError, match="not a 4-numeral"):
        ff1.encrypt_int(10_000, 4, b"")
    with pytest.raises(SerializationError, match="not a 4-numeral"):
        ff1.decrypt_int(-1, 4, b"")
