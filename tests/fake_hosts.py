"""Hosts that are not well-behaved Redis servers, on free loopback ports, for fault tests.

* :class:`NotRedis` answers every connection like an HTTP server would;
* :class:`Trickler` handles a client's connection set-up (CLIENT, SELECT,
  AUTH, PING get ``+OK``, HELLO its map) like Redis, then answers the first other
  command with a reply it sends one byte every ``interval`` seconds.
"""
import socket
import threading
import time
from typing import List

from servers import free_port

SET_UP = {b"CLIENT", b"HELLO", b"SELECT", b"AUTH", b"PING"}


class FakeHost:
    def __init__(self) -> None:
        self.port = free_port()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._stop = threading.Event()
        self._threads: List[threading.Thread] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        self._listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                continue
            thread = threading.Thread(target=self._serve_safely, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve_safely(self, conn: socket.socket) -> None:
        try:
            self.serve(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def serve(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._stop.set()
        self._listener.close()


class NotRedis(FakeHost):
    def serve(self, conn: socket.socket) -> None:
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        time.sleep(1)


def read_command(stream) -> List[bytes]:
    """One RESP array of bulk strings from a file-like socket stream."""
    header = stream.readline()
    if not header:
        raise OSError("closed")
    count = int(header[1:])
    parts = []
    for _ in range(count):
        length = int(stream.readline()[1:])
        parts.append(stream.read(length + 2)[:-2])
    return parts


class Trickler(FakeHost):
    def __init__(self, interval: float = 0.5, seconds: float = 30.0):
        self.interval, self.seconds = interval, seconds
        super().__init__()

    def serve(self, conn: socket.socket) -> None:
        stream = conn.makefile("rb")
        while not self._stop.is_set():
            command = read_command(stream)
            if command[0].upper() == b"HELLO" and len(command) > 1:
                # The handshake of a RESP3 client: a map naming the protocol it asked for.
                conn.sendall(b"%%1\r\n$5\r\nproto\r\n:%s\r\n" % command[1])
                continue
            if command[0].upper() in SET_UP:
                conn.sendall(b"+OK\r\n")
                continue
            # A bulk string that never ends: one byte now and then, for `seconds`.
            conn.sendall(b"$100000\r\n")
            ends = time.monotonic() + self.seconds
            while time.monotonic() < ends and not self._stop.is_set():
                conn.sendall(b"x")
                time.sleep(self.interval)
            return
