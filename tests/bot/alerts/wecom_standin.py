"""A local stand-in for a WeCom group robot webhook: records each POST and answers with the
errcodes the test lines up (then {"errcode": 0})."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class RobotStandIn:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.answers: list[int] = []  # errcodes to answer next, in order

    @property
    def texts(self) -> list[str]:
        return [body["text"]["content"] for body in self.received]


@contextmanager
def robot_standin() -> Iterator[tuple[RobotStandIn, str]]:
    robot = RobotStandIn()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length))
            errcode = robot.answers.pop(0) if robot.answers else 0
            if errcode == 0:
                robot.received.append(body)
                robot.paths.append(self.path)
            answer = json.dumps({"errcode": errcode, "errmsg": "ok" if errcode == 0
                                 else "stand-in error"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield robot, f"http://127.0.0.1:{server.server_address[1]}/cgi-bin/webhook/send?key=test-key"
    finally:
        server.shutdown()
        server.server_close()
