"""An ASGI app served by uvicorn in a daemon thread on loopback: the sandboxes' and webhooks' runner."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn


class BackgroundServer:
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

    def start(self) -> BackgroundServer:
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

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
