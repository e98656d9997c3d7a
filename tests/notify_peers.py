"""The faked network peers of escalation notifications: a webhook endpoint (a real HTTP server on
127.0.0.1) and an SMTP sink (a real SMTP conversation over a socket), both standard library only, plus
a copy of the default policy whose notification lists point at them."""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email import policy as email_policy
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from troubleflow.policy_files import default_policy_dir


@dataclass
class Hooks:
    """Records every POST by path; answers 500 while `failing(path)` holds."""

    url: str = ""
    failing: Callable[[str], bool] = lambda _path: False
    posts: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def to(self, path: str) -> list[dict[str, Any]]:
        return [json.loads(raw) for p, _, raw in self.posts if p == path]


@dataclass
class Mailbox:
    messages: list[Message] = field(default_factory=list)
    port: int = 0

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]


def start_hooks(hooks: Hooks) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with hooks.lock:
                hooks.posts.append((self.path, dict(self.headers.items()), raw))
            self.send_response(500 if hooks.failing(self.path) else 204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    hooks.url = f"http://127.0.0.1:{server.server_address[1]}"
    return server


def start_smtp(mailbox: Mailbox) -> socketserver.ThreadingTCPServer:
    """Just enough SMTP (RFC 5321) for smtplib: greeting, EHLO, MAIL, RCPT, DATA, QUIT."""

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            self.wfile.write(b"220 sink ESMTP\r\n")
            while line := self.rfile.readline():
                verb = line[:4].upper()
                if verb == b"DATA":
                    self.wfile.write(b"354 end with .\r\n")
                    data = b""
                    while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                        data += chunk[1:] if chunk.startswith(b"..") else chunk
                    mailbox.messages.append(message_from_bytes(data, policy=email_policy.default))
                    self.wfile.write(b"250 queued\r\n")
                elif verb == b"QUIT":
                    self.wfile.write(b"221 bye\r\n")
                    return
                else:
                    self.wfile.write(b"250 ok\r\n")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    mailbox.port = server.server_address[1]
    return server


def policy_for(hooks_url: str, directory: Path) -> Path:
    """The default policy with its webhook recipients at `hooks_url`, and duty-managers also on a webhook."""
    text = default_policy_dir().joinpath("default.yaml").read_text(encoding="utf-8")
    text = text.replace("https://chatops.operator.example/hooks/noc", f"{hooks_url}/noc")
    text = text.replace("https://paging.operator.example/v1/alerts/major-incident", f"{hooks_url}/paging")
    duty = "      - {channel: email, address: duty-managers@operator.example}\n"
    assert duty in text
    text = text.replace(duty, duty + f'      - {{channel: webhook, address: "{hooks_url}/duty"}}\n')
    path = directory / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path
