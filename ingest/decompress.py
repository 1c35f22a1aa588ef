"""Bounded decompression of HTTP bodies: gzip and deflate layers that never produce more bytes than
the caller allows, whatever a compressed body claims (a gzip bomb is cut off, not inflated)."""

from __future__ import annotations

import zlib

from ingest.errors import FetchError

INFLATABLE = {"gzip": "gzip", "x-gzip": "gzip", "deflate": "deflate"}
MAX_ENCODING_LAYERS = 2


class TooLarge(Exception):
    pass


class Inflater:
    """One Content-Encoding layer (gzip or deflate), never producing more than it is allowed to."""

    def __init__(self, kind: str) -> None:
        self._kind = kind
        # 32+15 accepts both gzip and zlib headers; servers mislabel one as the other.
        self._z = zlib.decompressobj(47)
        self._started = False
        self._finished = False

    def feed(self, data: bytes, allowance: int) -> bytes:
        """Inflate ``data``; raise ``TooLarge`` past ``allowance`` bytes of output (for this call)."""
        parts: list[bytes] = []
        produced = 0
        while data and not self._finished:
            try:
                # max_length bounds the memory a bomb can take: at most allowance + 1 bytes per call.
                out = self._z.decompress(data, allowance - produced + 1)
            except zlib.error:
                if self._kind == "deflate" and not self._started:
                    # "deflate" is sometimes sent raw, without the zlib header the RFC asks for.
                    self._z = zlib.decompressobj(-15)
                    self._started = True
                    continue
                raise
            self._started = True
            produced += len(out)
            if produced > allowance:
                raise TooLarge
            parts.append(out)
            data = self._z.unconsumed_tail
            if self._z.eof:
                data = self._z.unused_data
                if data and data.startswith(b"\x1f\x8b"):
                    self._z = zlib.decompressobj(47)  # concatenated gzip members
                else:
                    self._finished = True  # trailing padding after the stream is ignored, as browsers do
        return b"".join(parts)


def content_encodings(value: str | None, url: str) -> list[str]:
    layers = [part.strip().lower() for part in (value or "").split(",") if part.strip()]
    layers = [layer for layer in layers if layer != "identity"]
    unknown = [layer for layer in layers if layer not in INFLATABLE]
    if unknown or len(layers) > MAX_ENCODING_LAYERS:
        raise FetchError(url, f"{url} answered with Content-Encoding {value!r}, which Vigie does not decode "
                              f"(it asks for gzip or deflate only).", kind="unsupported-encoding")
    return [INFLATABLE[layer] for layer in layers]
