"""Signed unsubscribe tokens: a link in every email that opts the address out, unforgeable."""

from __future__ import annotations

import base64
import hashlib
import hmac


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_token(email: str, secret: str) -> str:
    """`<address>.<signature>`, both URL-safe; the address is lower-cased."""
    address = email.strip().lower().encode()
    signature = hmac.new(secret.encode(), address, hashlib.sha256).digest()[:16]
    return f"{_b64(address)}.{_b64(signature)}"


def read_token(token: str, secret: str) -> str | None:
    """The address a token opts out, or None when it was not signed with `secret`."""
    try:
        encoded, signature = token.split(".", 1)
        address = _unb64(encoded)
        given = _unb64(signature)
    except (ValueError, UnicodeDecodeError):
        return None
    expected = hmac.new(secret.encode(), address, hashlib.sha256).digest()[:16]
    return address.decode() if hmac.compare_digest(given, expected) else None


def unsubscribe_url(public_url: str, email: str, secret: str) -> str:
    return f"{public_url.rstrip('/')}/unsubscribe/{make_token(email, secret)}"
