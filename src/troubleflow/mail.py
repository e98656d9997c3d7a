"""Sends one plain-text email through the SMTP server of `TROUBLEFLOW_SMTP_URL` (standard library only)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

from troubleflow.webhooks import Outcome

NOT_CONFIGURED = "no SMTP server configured (set TROUBLEFLOW_SMTP_URL, e.g. smtp://mail.example:25)"


def send(
    smtp_url: str,
    sender: str,
    to: str,
    subject: str,
    body: str,
    *,
    timeout_seconds: float,
) -> Outcome:
    """`smtp://[user:password@]host[:port]` (STARTTLS when the server offers it and credentials are
    given) or `smtps://…` (TLS from the start). A refused or unreachable server is a failed Outcome."""
    if not smtp_url:
        return Outcome(False, NOT_CONFIGURED)
    url = urlsplit(smtp_url)
    if url.scheme not in ("smtp", "smtps") or not url.hostname:
        return Outcome(
            False, f"TROUBLEFLOW_SMTP_URL must be smtp://host[:port] or smtps://…, not {smtp_url!r}"
        )
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(body)
    smtp_class = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    port = url.port or (465 if url.scheme == "smtps" else 25)
    try:
        with smtp_class(url.hostname, port, timeout=timeout_seconds) as server:
            if url.username:
                if url.scheme == "smtp" and server.has_extn("starttls"):
                    server.starttls(context=ssl.create_default_context())
                server.login(unquote(url.username), unquote(url.password or ""))
            server.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:  # smtplib errors and socket errors alike
        return Outcome(False, f"{type(exc).__name__}: {exc}")
    return Outcome(True)
