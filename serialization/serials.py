"""Random serial numbers: formats, the guessing-odds policy, and the two generators.

R-CODE-4 and EU 2016/161 want serials nobody can predict. Two ways are offered:

* `CsprngSerials` draws uniformly from the OS generator. It keeps no state and can repeat
  itself, so the store's ``UNIQUE(gtin, serial)`` constraint is what makes serials unique.
* `Ff1Serials` encrypts a counter with FF1 under a secret per-product key. FF1 is a
  permutation, so distinct counters can never give the same serial: no lookups, and the
  counter is the only state to persist. Unpredictability rests entirely on the key staying
  secret; anyone holding it can list every serial in order.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from serialization.errors import CodeFormatError, SerializationError, SerialPolicyError
from serialization.ff1 import FF1
from serialization.gs1.checkdigit import is_valid_key
from serialization.rules import SerialGenerator, SerialSpec

MAX_GUESS_PROBABILITY: Final = Fraction(1, 10_000)
"""A serial must be guessable with probability strictly below this.

EU Delegated Regulation 2016/161 Art. 4(c): "negligible and in any case lower than one in
ten thousand". China, seed 001 annex 2 item 13, asks the same in words: 随机流水号应随机生成，
无规律可循 (random serials are generated randomly, with no regularity to follow).
"""
MIN_FF1_DOMAIN: Final = 10**6
"""NIST SP 800-38G Rev. 1 (draft) requires radix**minlen >= 10**6: small domains are attackable."""
MAX_CYCLE_WALK_RATIO: Final = 100
"""An `Ff1Serials` format may be at most this many times larger than its domain: cycle
walking costs that many FF1 calls per serial on average."""
MAX_SERIAL_LENGTH: Final = 20
"""EU 2016/161 Art. 4(b) and the DSCSA both cap serials at 20 characters; so does GS1 AI 21."""

CSET_82: Final = frozenset(
    "!\"%&'()*+,-./"
    + string.digits
    + ":;<=>?"
    + string.ascii_uppercase
    + "_"
    + string.ascii_lowercase
)
DIGITS: Final = "0123456789"
SAFE_ALPHANUMERIC: Final = "0123456789ABCDEFGHJKLMNPRTUVWXY"
"""0-9 and A-Z without the letters a camera OCR (or a person) confuses with another character.

I and O read as 1 and 0; Q loses its tail to a worn inkjet head and becomes O or 0; S and Z
read as 5 and 2 in dot-matrix fonts. B, D, G and L stay: dropping them too would cost
another 0.2 bits per character for confusions that OCR-B fonts already keep apart.
31 characters, 4.95 bits each.
"""

_MASTER_KEY_BYTES: Final = 32
_HKDF_INFO_PREFIX: Final = b"tracegate ff1 serial key v1|"


@dataclass(frozen=True, slots=True)
class SerialFormat:
    """`length` characters from `alphabet`; a character's value is its index there."""

    alphabet: str
    length: int

    def __post_init__(self) -> None:
        if len(self.alphabet) < 2:
            raise SerialPolicyError(
                "a serial alphabet needs at least 2 characters", field="alphabet"
            )
        for position, char in enumerate(self.alphabet):
            if char not in CSET_82:
                raise SerialPolicyError(
                    f"{char!r} is not in GS1 character set 82",
                    field="alphabet",
                    position=position,
                    hint="use digits, letters and !\"%&'()*+,-./:;<=>?_ only",
                )
            if self.alphabet.index(char) != position:
                raise SerialPolicyError(
                    f"{char!r} appears twice", field="alphabet", position=position
                )
        if not 1 <= self.length <= MAX_SERIAL_LENGTH:
            raise SerialPolicyError(
                f"a serial has 1 to {MAX_SERIAL_LENGTH} characters, not {self.length}",
                field="length",
            )

    @property
    def radix(self) -> int:
        return len(self.alphabet)

    @property
    def space(self) -> int:
        space: int = len(self.alphabet) ** self.length
        return space


def guess_probability(planned_volume: int, space: int) -> float:
    """Chance that one guessed serial is a real one: serials issued over possible serials."""
    if space < 1 or planned_volume < 0:
        raise SerializationError(
            f"need space >= 1 and planned volume >= 0, got {space} and {planned_volume}"
        )
    return min(1.0, planned_volume / space)


def check_serial_policy(spec: SerialSpec) -> None:
    """Raise `SerialPolicyError` unless `spec` makes serials that are valid and unguessable."""
    fmt = SerialFormat(spec.alphabet, spec.length)
    volume = spec.planned_volume
    if volume <= 0:
        raise SerialPolicyError(
            f"planned volume must be positive, not {volume:,}",
            field="planned_volume",
            hint="estimate the serials this product will ever get at this level",
        )
    space_text = f"{fmt.radix}^{fmt.length}"
    if spec.generator is SerialGenerator.FF1 and fmt.space < MIN_FF1_DOMAIN:
        raise SerialPolicyError(
            f"an FF1 domain of {space_text} = {fmt.space:,} is below the "
            f"minimum of {MIN_FF1_DOMAIN:,} in the NIST SP 800-38G Rev. 1 draft",
            field="length",
            hint=_fix_hint(fmt, MIN_FF1_DOMAIN - 1),
        )
    if Fraction(volume, fmt.space) >= MAX_GUESS_PROBABILITY:
        limit = float(MAX_GUESS_PROBABILITY)
        raise SerialPolicyError(
            f"planned volume {volume:,} in a space of {space_text} gives a guessing "
            f"probability of {guess_probability(volume, fmt.space):.1e}, at least the "
            f"EU FMD limit of {limit:.0e}",
            field="length",
            hint=_fix_hint(fmt, volume * MAX_GUESS_PROBABILITY.denominator, volume),
        )


def _fix_hint(fmt: SerialFormat, must_exceed: int, volume: int | None = None) -> str:
    """Fewest characters to add so the space exceeds `must_exceed`, as advice."""
    for extra in range(1, MAX_SERIAL_LENGTH - fmt.length + 1):
        space = fmt.radix ** (fmt.length + extra)
        if space > must_exceed:
            plural = "s" if extra > 1 else ""
            odds = f", for {guess_probability(volume, space):.1e}," if volume else ""
            return f"add {extra} character{plural}{odds} or use a larger alphabet"
    return f"no length up to {MAX_SERIAL_LENGTH} characters is enough; use a larger alphabet"


class CsprngSerials:
    """Uniform serials from the OS's cryptographic generator.

    This only draws: two draws can repeat a serial (rarely, at the odds the policy bounds),
    and the store's UNIQUE constraint is what rejects the repeat.
    """

    __slots__ = ("_delete", "_fmt", "_table")

    def __init__(self, fmt: SerialFormat) -> None:
        self._fmt = fmt
        radix = fmt.radix
        usable = 256 - 256 % radix
        # Bytes >= usable are dropped, so every kept byte maps to each character equally often.
        self._table = bytes(ord(fmt.alphabet[byte % radix]) for byte in range(256))
        self._delete = bytes(range(usable, 256))

    @property
    def format(self) -> SerialFormat:
        return self._fmt

    def draw(self, n: int) -> list[str]:
        if n < 0:
            raise SerializationError(f"cannot draw {n} serials", field="n")
        length = self._fmt.length
        needed = n * length
        usable = 256 - len(self._delete)
        chunks: list[bytes] = []
        have = 0
        while have < needed:
            raw = secrets.token_bytes((needed - have) * 256 // usable + 64)
            chunk = raw.translate(self._table, self._delete)
            chunks.append(chunk)
            have += len(chunk)
        text = b"".join(chunks)[:needed].decode("ascii")
        return [text[start : start + length] for start in range(0, needed, length)]


class Ff1Serials:
    """Serial number ``c`` of a product is FF1(key, tweak) of the counter ``c``.

    With `domain_size` below the format's space (an enterprise-assigned numeric range, or a
    bound chosen on purpose), outputs outside ``range(domain_size)`` are encrypted again
    (cycle walking). That keeps the map a bijection on ``range(domain_size)``.

    Domains below `MIN_FF1_DOMAIN` are refused unless `allow_small_domain` is set, which is
    for tests and demonstrations only. Not thread-safe (see `FF1`).
    """

    __slots__ = ("_digits", "_ff1", "_fmt", "_index", "_size", "_tweak")

    def __init__(
        self,
        key: bytes,
        tweak: bytes,
        fmt: SerialFormat,
        domain_size: int | None = None,
        *,
        allow_small_domain: bool = False,
    ) -> None:
        size = fmt.space if domain_size is None else domain_size
        if not 1 <= size <= fmt.space:
            raise SerialPolicyError(
                f"domain size {size:,} must be between 1 and the format's space {fmt.space:,}",
                field="domain_size",
            )
        if size < MIN_FF1_DOMAIN and not allow_small_domain:
            raise SerialPolicyError(
                f"an FF1 domain of {size:,} is below the minimum of {MIN_FF1_DOMAIN:,} "
                "in the NIST SP 800-38G Rev. 1 draft",
                field="domain_size",
            )
        if fmt.space > size * MAX_CYCLE_WALK_RATIO:
            raise SerialPolicyError(
                f"the format's space {fmt.space:,} is over {MAX_CYCLE_WALK_RATIO} times the "
                f"domain {size:,}, so cycle walking would be too slow",
                field="domain_size",
                hint="use a shorter serial length or a smaller alphabet",
            )
        self._ff1 = FF1(key, fmt.radix)
        self._tweak = bytes(tweak)
        self._fmt = fmt
        self._size = size
        self._digits = fmt.alphabet
        self._index = {char: value for value, char in enumerate(fmt.alphabet)}
        self._walk(self._ff1.encrypt_int, 0)

    @property
    def format(self) -> SerialFormat:
        return self._fmt

    @property
    def domain_size(self) -> int:
        return self._size

    def serial(self, counter: int) -> str:
        self._check_counter(counter)
        return self._text(self._walk(self._ff1.encrypt_int, counter))

    def serials(self, start: int, n: int) -> list[str]:
        """Serials of counters ``start .. start + n - 1``, in that order."""
        if n < 0:
            raise SerializationError(f"cannot make {n} serials", field="n")
        if n == 0:
            return []
        self._check_counter(start)
        self._check_counter(start + n - 1)
        length, tweak, size = self._fmt.length, self._tweak, self._size
        values = self._ff1.encrypt_ints(range(start, start + n), length, tweak)
        walking = [i for i, value in enumerate(values) if value >= size]
        while walking:
            again = self._ff1.encrypt_ints([values[i] for i in walking], length, tweak)
            for i, value in zip(walking, again, strict=True):
                values[i] = value
            walking = [i for i in walking if values[i] >= size]
        return [self._text(value) for value in values]

    def counter_of(self, serial: str) -> int:
        """The counter `serial` was made from: for verification and recovery after a crash."""
        if len(serial) != self._fmt.length:
            raise CodeFormatError(
                f"a serial here has {self._fmt.length} characters, not {len(serial)}",
                field="serial",
            )
        value = 0
        radix = self._fmt.radix
        for position, char in enumerate(serial):
            digit = self._index.get(char)
            if digit is None:
                raise CodeFormatError(
                    f"{char!r} is not in the serial alphabet", field="serial", position=position
                )
            value = value * radix + digit
        if value >= self._size:
            raise CodeFormatError(
                "serial is outside this generator's domain, so it was not made by it",
                field="serial",
            )
        return self._walk(self._ff1.decrypt_int, value)

    def _walk(self, permute: Callable[[int, int, bytes], int], value: int) -> int:
        length, tweak, size = self._fmt.length, self._tweak, self._size
        value = permute(value, length, tweak)
        while value >= size:
            value = permute(value, length, tweak)
        return value

    def _check_counter(self, counter: int) -> None:
        if not 0 <= counter < self._size:
            raise SerializationError(
                f"counter {counter:,} is outside 0..{self._size - 1:,}",
                field="counter",
                hint="the domain is used up: a new product key or longer serials are needed",
            )

    def _text(self, value: int) -> str:
        radix = self._fmt.radix
        digits = self._digits
        chars = [""] * self._fmt.length
        for position in range(self._fmt.length - 1, -1, -1):
            value, digit = divmod(value, radix)
            chars[position] = digits[digit]
        return "".join(chars)


def derive_product_key(master_key: bytes, product_id: str) -> bytes:
    """The 32-byte FF1 key of one product, by HKDF-SHA256 from the site's master key.

    Products get independent keys, so a key leaked for one product exposes no other.
    """
    if len(master_key) != _MASTER_KEY_BYTES:
        raise SerialPolicyError(
            f"the master key has {_MASTER_KEY_BYTES} bytes, not {len(master_key)}",
            field="master_key",
        )
    if not product_id:
        raise SerializationError("product id is empty", field="product_id")
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=_HKDF_INFO_PREFIX + product_id.encode("utf-8"),
    )
    return hkdf.derive(master_key)


def tweak_for(gtin_or_product_id: str) -> bytes:
    """The FF1 tweak for a product: its GTIN as 14 digits, or else its id in UTF-8.

    A valid GTIN-8/12/13 is padded to GTIN-14 first: the tweak must never change for a
    product, or counters already used would map to new serials that may collide with old ones.
    """
    text = gtin_or_product_id
    if not text:
        raise SerializationError("GTIN or product id is empty", field="product_id")
    if len(text) in (8, 12, 13, 14) and text.isascii() and text.isdigit() and is_valid_key(text):
        text = text.rjust(14, "0")
    return text.encode("utf-8")


def make_master_key() -> bytes:
    return secrets.token_bytes(_MASTER_KEY_BYTES)


def load_master_key(text: str) -> bytes:
    """Parse a master key written as 64 hex digits. Errors never repeat the key text."""
    cleaned = text.strip()
    expected = 2 * _MASTER_KEY_BYTES
    if len(cleaned) != expected:
        raise SerialPolicyError(
            f"the master key must be {expected} hexadecimal characters, not {len(cleaned)}",
            field="master_key",
            hint="make one with `python -c 'import secrets; print(secrets.token_hex(32))'`",
        )
    for position, char in enumerate(cleaned):
        if char not in string.hexdigits:
            raise SerialPolicyError(
                "the master key has a character that is not hexadecimal",
                field="master_key",
                position=position,
                hint="use only 0-9 and a-f",
            )
    key = bytes.fromhex(cleaned)
    if len(set(key)) == 1:
        raise SerialPolicyError(
            "the master key is one byte repeated, which looks like a placeholder",
            field="master_key",
            hint="generate a real random key",
        )
    return key
