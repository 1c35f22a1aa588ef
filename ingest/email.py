"""E-mail delivery of alerts in one place: the message (text, with an HTML alternative) and its SMTP send.

Messages: ``match_message`` (one match, for an immediate alert) and ``digest_message`` (a digest
alert's matches of a period). Each names the alert, the article(s) and their story when there is
one. The ``Message-ID`` derives from the notification (or digest) id, so a rare second send of a
message the server had already accepted is recognisable by the reader's mail program, as the
webhook's ``Idempotency-Key`` is by a receiver.

Pure sending, like ``ingest.webhook`` for POST: no Celery, no Elasticsearch, no retry policy. The
worker (``worker.alert_tasks``) decides what to do with an ``EmailError``, which says whether trying
again may help: 4xx replies, timeouts, refused or broken connections are transient; 5xx replies
(an unknown recipient, a refused login), a server without STARTTLS and no SMTP server configured
are permanent.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from html import escape

from ingest.errors import VigieError
from ingest.models import iso_time
from ingest.notification_records import Notification

ALERT_HEADER = "X-Vigie-Alert"
MAX_ADDRESS_CHARS = 254


def valid_address(address: str) -> bool:
    """True for one plain address such as ``ana@example.org`` (no display name, no list)."""
    name, parsed = parseaddr(address)
    if name or parsed != address or len(address) > MAX_ADDRESS_CHARS or address.count("@") != 1:
        return False
    local, domain = address.split("@")
    return bool(local) and "." in domain.strip(".") and not any(char.isspace() or char in "<>,;\"" for char in address)


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """Where and how alert e-mails are sent (``VIGIE_SMTP_*``); ``host`` None: e-mail is not set up."""

    host: str | None
    port: int = 587
    user: str | None = None
    password: str | None = None
    sender: str = "vigie@localhost"
    starttls: bool = True
    ssl: bool = False
    timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class EmailResult:
    """The server accepted the message."""

    recipient: str
    elapsed: float


class EmailError(VigieError):
    """A message the SMTP server did not accept; the message names the recipient and the server.
    ``kind``: ``not-configured``, ``timeout``, ``connection-refused``, ``connection-failed``,
    ``tls-error``, ``auth-failed``, ``smtp-<code>``. ``retry_after`` is always None (SMTP has none);
    it is there so the worker treats webhook and e-mail failures alike."""

    def __init__(self, recipient: str, message: str, *, kind: str, transient: bool, code: int | None = None) -> None:
        super().__init__(message, kind=kind, transient=transient)
        self.recipient = recipient
        self.code = code
        self.retry_after: float | None = None


# -- messages -------------------------------------------------------------------------------------


def _why(item: Notification) -> str:
    parts = [f"{topic.name} {topic.score:.2f}" for topic in item.matched.topics]
    parts += [f"“{term}”" for term in item.matched.terms]
    return ", ".join(parts) or "the alert's filters"


def _story_line(item: Notification) -> str | None:
    if not item.story:
        return None
    size = item.story.get("size")
    return f"Story: {item.story.get('headline') or item.story.get('id')}" + (f" ({size} articles)" if size else "")


def _article_lines(item: Notification) -> list[str]:
    lines = [item.title or item.article_id, f"  {item.url or 'article ' + item.article_id}"]
    details = [f"language {item.language}"]
    if item.published:
        details.append(f"published {item.published}")
    if item.feed:
        details.append(f"feed {item.feed}")
    lines.append("  " + ", ".join(details))
    lines.append(f"  Matched: {_why(item)}")
    if item.matched.entities:
        lines.append(f"  Names: {', '.join(item.matched.entities[:10])}")
    story = _story_line(item)
    if story:
        lines.append(f"  {story}")
    return lines


def _article_html(item: Notification) -> str:
    title = escape(item.title or item.article_id)
    link = f'<a href="{escape(item.url, quote=True)}">{title}</a>' if item.url else title
    story = _story_line(item)
    parts = [f"<li><p><strong>{link}</strong><br>",
             f"<small>{escape(item.language)}{' · ' + escape(item.published) if item.published else ''}"
             f"{' · ' + escape(item.feed) if item.feed else ''}</small></p>",
             f"<p>Matched: {escape(_why(item))}</p>"]
    if story:
        parts.append(f"<p>{escape(story)}</p>")
    parts.append("</li>")
    return "".join(parts)


def _message(subject: str, sender: str, recipient: str, message_id: str, alert_id: str, text: str,
             html: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = f"<{message_id}@vigie>"
    message[ALERT_HEADER] = alert_id
    message.set_content(text)
    message.add_alternative(f"<!doctype html><html><body>{html}</body></html>", subtype="html")
    return message


def match_message(item: Notification, sender: str, recipient: str) -> EmailMessage:
    """The e-mail of one match (an immediate alert): the alert, the article, why, its story."""
    subject = f"[Vigie] {item.alert_name}: {item.title or item.article_id}"
    text = "\n".join([f"Alert “{item.alert_name}” matched an article.", "", *_article_lines(item), "",
                      f"Notification {item.notification_id}, made {iso_time(item.created_at)}."])
    html = (f"<p>Alert <strong>{escape(item.alert_name)}</strong> matched an article.</p>"
            f"<ul>{_article_html(item)}</ul>")
    return _message(subject, sender, recipient, item.notification_id, item.alert_id, text + "\n", html)


def digest_message(alert_id: str, alert_name: str, digest: str, period_end: datetime,
                   items: Sequence[Notification], sender: str, recipient: str) -> EmailMessage:
    """The e-mail of a digest: the alert's matches made before ``period_end``, oldest first."""
    subject = f"[Vigie] {alert_name}: {len(items)} article(s) until {period_end.isoformat(timespec='minutes')}"
    lines = [f"Alert “{alert_name}” matched {len(items)} article(s) in the period ending "
             f"{period_end.isoformat(timespec='minutes')}.", ""]
    for number, item in enumerate(items, 1):
        article = _article_lines(item)
        lines += [f"{number}. {article[0]}", *article[1:], ""]
    lines.append(f"Digest {digest}.")
    html = (f"<p>Alert <strong>{escape(alert_name)}</strong> matched {len(items)} article(s) in the period "
            f"ending {escape(period_end.isoformat(timespec='minutes'))}.</p>"
            f"<ol>{''.join(_article_html(item) for item in items)}</ol>")
    return _message(subject, sender, recipient, digest, alert_id, "\n".join(lines) + "\n", html)


# -- sending --------------------------------------------------------------------------------------


class EmailSender:
    """Sends one message per SMTP session: alerts are rare enough, and a session never outlives a task."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def send(self, message: EmailMessage) -> EmailResult:
        config = self.config
        recipient = str(message["To"])
        where = f"{config.host}:{config.port}" if config.host else "no SMTP server"
        if not config.host:
            raise EmailError(recipient, f"cannot e-mail {recipient}: no SMTP server is set (VIGIE_SMTP_HOST)",
                             kind="not-configured", transient=False)
        began = time.monotonic()
        try:
            client: smtplib.SMTP
            if config.ssl:
                client = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout,
                                          context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
            with client:
                if config.starttls and not config.ssl:
                    client.starttls(context=ssl.create_default_context())
                if config.user:
                    client.login(config.user, config.password or "")
                refused = client.send_message(message, from_addr=config.sender, to_addrs=[recipient])
            if refused:
                code, reply = next(iter(refused.values()))
                raise _reply_error(recipient, where, code, reply)
        except EmailError:
            raise
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()), (550, b""))
            raise _reply_error(recipient, where, code, reply) from error
        except smtplib.SMTPAuthenticationError as error:
            raise EmailError(recipient, f"{where} refused the login of {config.user}: {error.smtp_code} "
                             f"{_text(error.smtp_error)}", kind="auth-failed", transient=False,
                             code=error.smtp_code) from error
        except smtplib.SMTPResponseException as error:
            raise _reply_error(recipient, where, error.smtp_code, error.smtp_error) from error
        except smtplib.SMTPNotSupportedError as error:
            raise EmailError(recipient, f"{where} does not offer STARTTLS ({error}); set VIGIE_SMTP_STARTTLS=false "
                             "only for a server on this machine", kind="tls-error", transient=False) from error
        except ssl.SSLError as error:
            raise EmailError(recipient, f"TLS with {where} failed: {error}", kind="tls-error", transient=False) from error
        except (socket.timeout, TimeoutError) as error:
            raise EmailError(recipient, f"{where} did not answer within {config.timeout:g} s while e-mailing "
                             f"{recipient}", kind="timeout", transient=True) from error
        except ConnectionRefusedError as error:
            raise EmailError(recipient, f"{where} refused the connection", kind="connection-refused",
                             transient=True) from error
        except (smtplib.SMTPException, OSError) as error:
            raise EmailError(recipient, f"sending to {recipient} through {where} failed: {error}",
                             kind="connection-failed", transient=True) from error
        return EmailResult(recipient=recipient, elapsed=time.monotonic() - began)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _reply_error(recipient: str, where: str, code: int, reply: bytes | str) -> EmailError:
    transient = 400 <= code < 500
    return EmailError(recipient, f"{where} answered {code} {_text(reply)} for {recipient}", kind=f"smtp-{code}",
                      transient=transient, code=code)
