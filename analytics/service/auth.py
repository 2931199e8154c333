"""Bearer tokens and their scopes.

A token is configured as ``SCOPE:TOKEN`` or ``SCOPE:sha256:HEX`` (the SHA-256
of the token, 64 hex digits, so that a tokens file need not hold the secret).
Scopes grow: ``read`` (the GET calls and the read queries), ``write`` (read,
and every call that counts or corrects), ``admin`` (everything, deleting all
data included).  Only the SHA-256 of each token is kept, and a presented token
is compared with every configured one in constant time.
"""
import hashlib
import hmac
import os
import re
from typing import Iterable, List, Mapping, Optional, Sequence, Tuple

from analytics.errors import ConfigurationError

SCOPES = ("read", "write", "admin")
ENV_TOKENS = "ANALYTICS_TOKENS"
_HEX = re.compile(r"^[0-9a-fA-F]{64}$")


def digest(token: str) -> str:
    """The SHA-256 of a token, as 64 lowercase hex digits (what a tokens file may hold)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_entry(spec: str, where: str) -> Tuple[str, str]:
    """``(scope, sha256 hex)`` of one ``SCOPE:TOKEN`` or ``SCOPE:sha256:HEX`` entry.

    Errors name ``where`` (e.g. ``"line 3 of tokens.txt"``), never the token.
    """
    scope, sep, secret = spec.strip().partition(":")
    if not sep or scope not in SCOPES:
        raise ConfigurationError("%s: expected SCOPE:TOKEN or SCOPE:sha256:HEX, SCOPE being read, write or admin"
                                 % where)
    kind, sep, hexed = secret.partition(":")
    if kind == "sha256" and sep and _HEX.match(hexed):
        return scope, hexed.lower()
    if not secret:
        raise ConfigurationError("%s: the token is empty" % where)
    return scope, digest(secret)


class Tokens:
    """The configured tokens: which scope a presented token has, if any."""

    def __init__(self, entries: Iterable[Tuple[str, str]] = ()):
        self.entries: List[Tuple[str, str]] = list(entries)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def scope_of(self, token: str) -> Optional[str]:
        """The scope of ``token`` (the widest, if it is configured several times), or ``None``."""
        presented = digest(token)
        found: Optional[str] = None
        for scope, known in self.entries:
            # Every entry is compared, so the time taken says nothing about which one matched.
            if hmac.compare_digest(presented, known) and (found is None or allows(scope, found)):
                found = scope
        return found


def allows(scope: str, needed: str) -> bool:
    """Whether a token of ``scope`` may do what needs ``needed``."""
    return SCOPES.index(scope) >= SCOPES.index(needed)


def load(options: Sequence[str] = (), tokens_file: Optional[str] = None,
         environ: Optional[Mapping[str, str]] = None) -> Tokens:
    """The tokens of ``--token`` options and a ``--tokens-file``, else of ``$ANALYTICS_TOKENS``.

    A tokens file holds one entry per line; blank lines and lines starting with
    ``#`` are skipped.  ``ANALYTICS_TOKENS`` separates entries with commas.
    """
    entries = [parse_entry(spec, "--token #%d" % number) for number, spec in enumerate(options, 1)]
    if tokens_file:
        try:
            with open(tokens_file, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError("tokens file %s: %s" % (tokens_file, getattr(exc, "strerror", None) or exc)) \
                from None
        for number, line in enumerate(lines, 1):
            if line.strip() and not line.lstrip().startswith("#"):
                entries.append(parse_entry(line, "line %d of %s" % (number, tokens_file)))
    if not options and not tokens_file:
        listed = (os.environ if environ is None else environ).get(ENV_TOKENS, "")
        entries = [parse_entry(spec, "entry %d of %s" % (number, ENV_TOKENS))
                   for number, spec in enumerate(listed.split(","), 1) if spec.strip()]
    return Tokens(entries)
