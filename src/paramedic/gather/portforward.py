"""A local TCP port that reaches a pod's port through the API server (`kubectl port-forward`).

`--db-probe` connects to the database pod this way, so the probe needs no route into the
cluster network. Each connection accepted on 127.0.0.1:<random> opens one websocket to
`pods/<pod>/portforward?ports=N` (subprotocol v4.channel.k8s.io: channel 0 carries data, channel
1 errors; each starts with a frame holding the port number) and bytes are relayed both ways.
The websocket library's exceptions end here; every socket has a finite timeout, and `close()`
(or leaving the `with` block) ends every relay.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import threading
from typing import Any

from paramedic import errors
from paramedic.gather import kubeapi

PROTOCOL = "v4.channel.k8s.io"


class Forward:
    """`with Forward(api, ns, pod, port, timeout=3) as fwd:` then connect to 127.0.0.1:fwd.port."""

    def __init__(
        self, api: kubeapi.Api, namespace: str, pod: str, port: int, *, timeout: float
    ) -> None:
        self.api, self.namespace, self.pod, self.remote_port = api, namespace, pod, port
        self.timeout = timeout
        self.errors: list[str] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = int(self._listener.getsockname()[1])
        self._closed = threading.Event()
        self._open: list[Any] = []
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> Forward:
        accept = threading.Thread(target=self._accept, name="paramedic-port-forward", daemon=True)
        accept.start()
        self._threads.append(accept)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        for item in list(self._open):
            _close(item)
        for thread in self._threads:
            thread.join(timeout=1.0)

    # --- relaying -------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._open.append(conn)
            relay = threading.Thread(
                target=self._relay, args=(conn,), name="paramedic-relay", daemon=True
            )
            relay.start()
            self._threads.append(relay)

    def _relay(self, conn: socket.socket) -> None:
        try:
            ws = self._websocket()
        except errors.GatherError as exc:
            self.errors.append(str(exc))
            conn.close()
            return
        self._open.append(ws)
        try:
            self._pump(conn, ws)
        except Exception as exc:  # websocket/socket errors end this one relay
            self.errors.append(
                f"port-forward to {self.namespace}/{self.pod}: {type(exc).__name__}: {exc}"
            )
        finally:
            _close(ws)
            conn.close()

    def _websocket(self) -> Any:
        import websocket  # websocket-client, a dependency of the kubernetes client

        path = f"/api/v1/namespaces/{self.namespace}/pods/{self.pod}/portforward"
        _, url, headers, _, _ = self.api.client.param_serialize(
            "GET",
            path,
            query_params=[("ports", str(self.remote_port))],
            auth_settings=["BearerToken"],
        )
        url = "ws" + url[len("http") :] if url.startswith("http") else url
        header = [f"{k}: {v}" for k, v in headers.items() if k.lower() == "authorization"]
        config = self.api.client.configuration
        sslopt: dict[str, Any] = {
            "cert_reqs": ssl.CERT_REQUIRED if config.verify_ssl else ssl.CERT_NONE
        }
        for key, value in (
            ("ca_certs", config.ssl_ca_cert),
            ("certfile", config.cert_file),
            ("keyfile", config.key_file),
        ):
            if value:
                sslopt[key] = value
        try:
            ws = websocket.create_connection(
                url,
                header=header,
                subprotocols=[PROTOCOL],
                timeout=self.timeout,
                sslopt=sslopt,
                enable_multithread=True,
            )
            for _ in range(2):  # the port-number frames of the data and error channels
                opcode, frame = ws.recv_data_frame(True)
                if opcode != websocket.ABNF.OPCODE_BINARY or len(frame.data) != 3:
                    raise errors.GatherError(
                        f"port-forward to {self.namespace}/{self.pod}: unexpected answer"
                    )
        except websocket.WebSocketBadStatusException as exc:
            raise errors.GatherError(
                f"port-forward to {self.namespace}/{self.pod}: HTTP {exc.status_code}"
                + (" (forbidden: needs create pods/portforward)" if exc.status_code == 403 else "")
            ) from exc
        except (websocket.WebSocketException, OSError) as exc:
            raise errors.GatherError(f"port-forward to {self.namespace}/{self.pod}: {exc}") from exc
        return ws

    def _pump(self, conn: socket.socket, ws: Any) -> None:
        import websocket

        conn.settimeout(self.timeout)
        while not self._closed.is_set():
            ready, _, _ = select.select([conn, ws.sock], [], [], 0.2)
            if conn in ready:
                data = conn.recv(65536)
                if not data:
                    return
                ws.send_binary(b"\x00" + data)
            if ws.sock in ready or (isinstance(ws.sock, ssl.SSLSocket) and ws.sock.pending()):
                opcode, frame = ws.recv_data_frame(True)
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    return
                if opcode != websocket.ABNF.OPCODE_BINARY or not frame.data:
                    continue
                if frame.data[0] == 0:
                    conn.sendall(frame.data[1:])
                elif frame.data[0] == 1 and frame.data[1:]:
                    self.errors.append(
                        f"port-forward to {self.namespace}/{self.pod}:"
                        f" {frame.data[1:].decode(errors='replace')}"
                    )
                    return


def _close(item: Any) -> None:
    """Close a local socket or a websocket. WebSocket.close() does nothing once the peer has
    closed (it only marks the connection closed), so its socket is shut down explicitly."""
    with contextlib.suppress(Exception):
        item.close()
    if not isinstance(item, socket.socket):
        with contextlib.suppress(Exception):
            item.shutdown()
