"""Strict parsing shared by the canonical text encodings of task outputs
(bpsw_format, bpsw_large): ASCII lines, one final newline, canonical decimals.
Each format passes its own error class, so callers see their format's error."""

from __future__ import annotations


def text_lines(data: object, max_size: int, error: type[ValueError]) -> list[str]:
    """The lines of a canonical output, or `error` if the bytes cannot be one."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise error(f"expected bytes, got {type(data).__name__}")
    raw = bytes(data)
    if len(raw) > max_size:
        raise error(f"result is {len(raw)} bytes, over the limit of {max_size}")
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError as exc:
        raise error(f"result is not ASCII (byte {exc.start})") from None
    if not text.endswith("\n"):
        raise error("result does not end with a newline")
    return text[:-1].split("\n")


def decimal(token: str, what: str, max_digits: int, error: type[ValueError]) -> int:
    """A non-negative decimal with no sign, no leading zero and at most max_digits digits."""
    if not token.isascii() or not token.isdigit() or (len(token) > 1 and token[0] == "0"):
        raise error(f"{what} {token[:24]!r} is not a canonical decimal integer")
    if len(token) > max_digits:
        raise error(f"{what} {token[:24]}... is too long")
    return int(token)
