"""A local SMTP server for alert e-mail tests (aiosmtpd on 127.0.0.1, a free port): records every
message it accepts and can answer the first DATA commands with a transient refusal (451)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller



def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage
    at: float

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None, "the message has no text part"
        return str(part.get_content())

    @property
    def html(self) -> str | None:
        part = self.message.get_body(preferencelist=("html",))
        return None if part is None else str(part.get_content())


@dataclass
class SmtpReceiver:
    refuse_first: int = 0  # answer this many DATA commands with 451 (try again later)
    accepted: list[Mail] = field(default_factory=list)
    refused: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.port = free_port()
        receiver = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                with receiver._lock:
                    if receiver.refused < receiver.refuse_first:
                        receiver.refused += 1
                        return "451 4.3.0 try again later"
                    message = message_from_bytes(envelope.content, policy=policy.default)
                    receiver.accepted.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), message,  # type: ignore[arg-type]
                                                  time.time()))
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def env(self) -> dict[str, str]:
        """The worker's settings for this server (plain SMTP on loopback: no STARTTLS, no login)."""
        return {"VIGIE_SMTP_HOST": "127.0.0.1", "VIGIE_SMTP_PORT": str(self.port), "VIGIE_SMTP_STARTTLS": "false",
                "VIGIE_SMTP_FROM": "vigie@test.example.org", "VIGIE_SMTP_TIMEOUT": "5"}

    def mails(self) -> list[Mail]:
        with self._lock:
            return list(self.accepted)

    def wait_for(self, count: int, timeout: float) -> list[Mail]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.mails()
            if len(found) >= count:
                return found
            time.sleep(0.2)
        return self.mails()

    def close(self) -> None:
        self.controller.stop()
