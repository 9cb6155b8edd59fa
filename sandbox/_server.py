"""What the sandbox servers share: start/stop as a context manager, an ASGI app served by uvicorn in a
daemon thread on loopback (also the webhooks' runner), and running one in the foreground for the demo."""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, Self

import uvicorn


class Served:
    """A server started by :meth:`start` and stopped by :meth:`stop`; a context manager."""

    def start(self) -> Self:
        """Serve until :meth:`stop`; returns once the server accepts connections."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop serving and release the port (the state stays)."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class BackgroundServer(Served):
    """Serves ``app`` on ``host:port`` (a free port when 0) until :meth:`stop`; a context manager."""

    def __init__(self, app, *, host: str = "127.0.0.1", port: int = 0, name: str = "server") -> None:
        self.app = app
        self.host = host
        self._port = port
        self._name = name
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT`` once started."""
        if self._socket is None:
            raise RuntimeError(f"the {self._name} is not started")
        return f"http://{self.host}:{self._socket.getsockname()[1]}"

    def start(self) -> Self:
        """Bind and serve; returns once the server accepts connections."""
        if self._thread is not None:
            return self
        # Binding here (not in uvicorn) makes port 0 usable: the real port is known before serving.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._port))
        self._socket = sock
        self._server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", lifespan="off", access_log=False))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, name=self._name,
                                        daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 5
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the {self._name} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None


class SandboxHttpServer(Served):
    """A sandbox HTTP API on 127.0.0.1 (a free port unless one is given), served in a daemon thread."""

    def _serve_app(self, app: Any, *, host: str, port: int, name: str) -> None:
        """Serve ``app`` once started (subclasses call this from ``__init__``)."""
        self._runner = BackgroundServer(app, host=host, port=port, name=name)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` once started (the port is chosen at start when 0 was given)."""
        return self._runner.base_url

    def start(self) -> Self:
        """Serve until :meth:`stop`; returns once the server accepts connections."""
        self._runner.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port (the state stays)."""
        self._runner.stop()


def required_env(parser: argparse.ArgumentParser, *names: str, meaning: str = "") -> list[str]:
    """The values of environment variables a sandbox's ``main`` needs; exits with a usage error naming them."""
    values = [os.environ.get(name) or "" for name in names]
    if not all(values):
        parser.error(" ".join(filter(None, ["set " + ", ".join(names), meaning])))
    return values


def serve_in_foreground(server: Served, banner: Callable[[], str]) -> None:
    """Run ``server`` until Ctrl-C, printing ``banner()`` once it listens (the demo's ``python -m`` entry)."""
    with server:
        print(banner(), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
