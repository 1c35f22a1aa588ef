"""The bearer token of the API's write endpoints.

``VIGIE_API_TOKEN`` when it is set; otherwise a random token generated on first start into
``$VIGIE_HOME/api-token`` (mode 0600) and read from there by every later start, so `vigie up`, a
separate `vigie api` and the person reading the file agree on it. No FastAPI import here: `vigie up`
resolves the token before it starts the API child.
"""

from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from conf.settings import Settings
from ingest.errors import VigieError

MIN_TOKEN_CHARS = 16
TOKEN_FILE = "api-token"


class TokenError(VigieError):
    kind = "api-token"


@dataclass(frozen=True)
class ApiToken:
    value: str = field(repr=False)
    source: str  # "VIGIE_API_TOKEN" or the file it was read from

    def matches(self, presented: str) -> bool:
        """Constant-time comparison (the time taken says nothing about how much of it was right)."""
        return hmac.compare_digest(presented.encode("utf-8"), self.value.encode("utf-8"))


def token_path(home: Path) -> Path:
    return home / TOKEN_FILE


def api_token(settings: Settings) -> ApiToken:
    """The token of this installation; TokenError when the configured one is unusable."""
    configured = settings.api_token.get_secret_value().strip() if settings.api_token is not None else ""
    if configured:
        if len(configured) < MIN_TOKEN_CHARS:
            raise TokenError(
                f"VIGIE_API_TOKEN has {len(configured)} characters; the API wants at least {MIN_TOKEN_CHARS}. "
                "Make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'")
        return ApiToken(configured, "VIGIE_API_TOKEN")
    path = token_path(settings.home)
    return ApiToken(_read_or_create(path), str(path))


def _read_or_create(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Written aside then linked into place: two processes starting together end up with the
        # same token, and nobody ever reads a half-written file.
        scratch = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(32) + "\n")
        try:
            os.link(scratch, path)
        except FileExistsError:
            pass
        finally:
            scratch.unlink(missing_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)  # a token others can read is no secret
    value = path.read_text(encoding="utf-8").strip()
    if len(value) < MIN_TOKEN_CHARS:
        raise TokenError(f"{path} holds no usable token (fewer than {MIN_TOKEN_CHARS} characters): "
                         "delete it to have a new one generated, or set VIGIE_API_TOKEN.")
    return value
