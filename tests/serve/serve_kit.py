"""A real uvicorn on an ephemeral loopback port (in a thread) and a small HTTP client (http.client)."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

import uvicorn

from pia_policy.serve import Service, create_app


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)


@dataclass
class Server:
    """A running service: ``call`` makes one real HTTP request."""

    host: str
    port: int
    service: Service

    def call(self, method: str, path: str, body: Any = None, *, token: str | None = None,
             headers: dict[str, str] | None = None) -> Reply:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        hdrs = {"Content-Type": "application/json"} if body is not None else {}
        if token is not None:
            hdrs["Authorization"] = f"Bearer {token}"
        hdrs.update(headers or {})
        data = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body, ensure_ascii=False)
        conn.request(method, path, body=data.encode("utf-8") if isinstance(data, str) else data, headers=hdrs)
        resp = conn.getresponse()
        reply = Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read().decode("utf-8"))
        conn.close()
        return reply

    def post(self, path: str, body: Any, **kw: Any) -> Reply:
        return self.call("POST", path, body, **kw)

    def get(self, path: str, **kw: Any) -> Reply:
        return self.call("GET", path, **kw)


@contextmanager
def running(service: Service) -> Iterator[Server]:
    """Serve ``service`` with uvicorn on 127.0.0.1:<free port> until the block ends."""
    sock = socket.create_server(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(service), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield Server("127.0.0.1", sock.getsockname()[1], service)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


