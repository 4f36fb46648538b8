"""Certificate checker for Carmichael numbers, for validators.

A certificate is (n, factors): n is a Carmichael number exactly when the factors
are at least three distinct primes whose product is n and p - 1 divides n - 1 for
every one of them (Korselt's criterion). Results come from volunteers' machines,
so everything is treated as untrusted: types and sizes are checked before any
arithmetic, and every failure is a CertificateError naming the reason.
"""

from __future__ import annotations

from collections.abc import Sequence

import gmpy2

__all__ = ["MAX_BITS", "CertificateError", "check", "is_valid"]

MAX_BITS = 4096
"""Largest n (in bits) a certificate may claim; keeps a hostile one cheap to reject."""


class CertificateError(ValueError):
    """A claimed Carmichael certificate is wrong; the message says why."""


def check(n: int, factors: Sequence[int]) -> None:
    """Return if factors prove n a Carmichael number; otherwise raise CertificateError."""
    if type(n) is not int and not isinstance(n, gmpy2.mpz):
        raise CertificateError(f"n must be an integer, got {type(n).__name__}")
    if n < 3:
        raise CertificateError(f"n = {n} is below 3")
    if n.bit_length() > MAX_BITS:
        raise CertificateError(f"n has {n.bit_length()} bits, more than {MAX_BITS}")
    if isinstance(factors, str | bytes) or not isinstance(factors, Sequence):
        raise CertificateError(f"factors must be a sequence, got {type(factors).__name__}")
    # every factor is at least 3, so a genuine list has at most log_3(n) entries
    if len(factors) > n.bit_length():
        raise CertificateError(f"{len(factors)} factors is more than {n} can have")
    if len(factors) < 3:
        raise CertificateError(
            f"{len(factors)} prime factor(s) given; a Carmichael number has at least 3"
        )
    n = gmpy2.mpz(n)
    ps = []
    for p in factors:
        if type(p) is not int and not isinstance(p, gmpy2.mpz):
            raise CertificateError(f"factor {p!r} is not an integer")
        if p < 2:
            raise CertificateError(f"factor {p} is below 2")
        ps.append(gmpy2.mpz(p))
    seen: set[int] = set()
    for p in ps:
        if p in seen:
            raise CertificateError(f"prime {p} repeated: n would not be squarefree")
        seen.add(p)
    product = gmpy2.mpz(1)
    for p in ps:
        product *= p
    if product != n:
        raise CertificateError(f"the factors multiply to {product}, not n = {n}")
    for p in ps:
        if not gmpy2.is_prime(p):
            raise CertificateError(f"factor {p} is not prime")
    n1 = n - 1
    for p in ps:
        if n1 % (p - 1):
            raise CertificateError(f"{p} - 1 does not divide n - 1 (Korselt fails at {p})")


def is_valid(n: int, factors: Sequence[int]) -> bool:
    """True when check(n, factors) passes."""
    try:
        check(n, factors)
    except CertificateError:
        return False
    return True
