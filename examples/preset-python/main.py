"""A small JSON HTTP service on the standard library's http.server (drydock example)."""

import importlib.util
import json
import os
import platform
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from urllib.parse import parse_qs, urlsplit

from greeting import greet


def bytecode_of(module: ModuleType) -> str:
    """How a module's .pyc (made when the image was built) is checked, and whether it matches."""
    try:
        with open(module.__cached__, "rb") as f:
            header = f.read(16)
    except (OSError, TypeError):
        return "none"
    flags = int.from_bytes(header[4:8], "little")
    if not flags & 1:
        return "timestamp"
    with open(module.__file__, "rb") as f:
        current = header[8:16] == importlib.util.source_hash(f.read())
    mode = "checked-hash" if flags & 2 else "unchecked-hash"
    return f"{mode}, {'up to date' if current else 'stale'}"


class Handler(BaseHTTPRequestHandler):
    server_version = "preset-python"

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/healthz":
            self.reply(200, {"ok": True})
        elif url.path == "/":
            name = parse_qs(url.query).get("name", ["world"])[0]
            self.reply(
                200,
                {
                    "service": "preset-python",
                    "message": greet(name),
                    "python": platform.python_version(),
                    "uid": os.getuid(),
                    "bytecode": bytecode_of(sys.modules["greeting"]),
                },
            )
        else:
            self.reply(404, {"error": f"no route for {url.path}"})

    def reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt: str, *args: object) -> None:
        print(f"{self.address_string()} {fmt % args}")


def main() -> None:
    port = int(os.environ.get("PORT", "8000"))
    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)
    # As PID 1 in a container, SIGTERM has no default action: stop cleanly on it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"preset-python listening on :{port}")
    server.serve_forever()


if __name__ == "__main__":
    main()
