"""The callback client's rules (keep_alive.py), against a real HTTP/1.1 server on 127.0.0.1: connections
are kept and reused, one the server closed while idle is replaced without losing the POST, one the server
says it closes is not kept, and what is not an http(s) URL is refused."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from troubleflow import webhooks
from troubleflow.keep_alive import KeepAlivePool


class Peer:
    """Records the client port of every POST it answers; `drop_after_answer` makes it close the socket
    after answering without saying so (as a server's idle timeout does), `say_close` answers with
    `Connection: close`."""

    def __init__(self) -> None:
        self.ports: list[int] = []
        self.bodies: list[bytes] = []
        self.drop_after_answer = False
        self.say_close = False
        peer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                peer.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
                peer.ports.append(self.client_address[1])
                self.send_response(204)
                if peer.say_close:
                    self.send_header("Connection", "close")
                self.send_header("Content-Length", "0")
                self.end_headers()
                if peer.drop_after_answer:
                    self.close_connection = True

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/listener"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()


@pytest.fixture
def peer() -> Iterator[Peer]:
    p = Peer()
    yield p
    p.server.shutdown()
    p.server.server_close()


def test_consecutive_posts_reuse_one_kept_connection(peer: Peer) -> None:
    pool = KeepAlivePool(5.0, 4)

    statuses = [
        pool.post(peer.url, b'{"n":%d}' % i, {"Content-Type": "application/json"})[0] for i in range(5)
    ]

    assert statuses == [204] * 5
    assert len(set(peer.ports)) == 1
    pool.clear()


def test_a_connection_the_server_closed_while_idle_is_replaced_and_the_post_still_arrives(peer: Peer) -> None:
    pool = KeepAlivePool(5.0, 4)
    peer.drop_after_answer = True  # the server closes after answering, without a word: the pool keeps it
    pool.post(peer.url, b"first", {})

    status, _ = pool.post(peer.url, b"second", {})

    assert status == 204
    assert peer.bodies == [b"first", b"second"]  # sent once each, the second on a fresh connection
    assert len(set(peer.ports)) == 2
    pool.clear()


def test_an_answer_saying_connection_close_leaves_nothing_kept(peer: Peer) -> None:
    pool = KeepAlivePool(5.0, 4)
    peer.say_close = True

    pool.post(peer.url, b"one", {})
    pool.post(peer.url, b"two", {})

    assert len(set(peer.ports)) == 2
    assert pool._take(("http", "127.0.0.1", peer.server.server_address[1])) is None


def test_a_callback_that_is_not_http_or_unreachable_is_a_failed_outcome_not_an_exception(peer: Peer) -> None:
    pool = webhooks.client(1.0, 2)
    for url in ("ftp://example.com/x", "not a url", "http://127.0.0.1:1/closed-port"):
        outcome = webhooks.post(pool, url, {"a": 1}, secret="s", event_id="e", timestamp=1)
        assert not outcome.ok and outcome.error
    assert webhooks.post(pool, peer.url, {"a": 1}, secret="s", event_id="e", timestamp=1).ok
