"""Fixtures of the notification tests: a local HTTP endpoint that Apprise's json:// URLs post to."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class ReceivedPost:
    path: str
    headers: dict[str, str]
    payload: dict[str, Any]


@dataclass
class HttpEndpoint:
    """A real HTTP server on 127.0.0.1; set `status` or `delay` to make it fail or time out."""

    host: str = "127.0.0.1"
    port: int = 0
    status: int = 200
    delay: float = 0.0
    posts: list[ReceivedPost] = field(default_factory=list)

    def json_url(self, path: str, query: str = "") -> str:
        return f"json://{self.host}:{self.port}/{path.lstrip('/')}" + (f"?{query}" if query else "")


@pytest.fixture
def http_endpoint() -> Iterator[HttpEndpoint]:
    endpoint = HttpEndpoint()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if endpoint.delay:
                time.sleep(endpoint.delay)
            endpoint.posts.append(
                ReceivedPost(
                    self.path, {k.lower(): v for k, v in self.headers.items()}, json.loads(body or b"{}")
                )
            )
            self.send_response(endpoint.status)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    endpoint.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield endpoint
    finally:
        server.shutdown()
        server.server_close()
