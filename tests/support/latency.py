"""A TCP relay on 127.0.0.1 that puts a network's latency between a client and a server.

Every byte is passed on ``delay`` seconds after it arrived, in each direction, so a request and
its answer take a round trip of ``2 * delay`` more than on loopback; the first bytes of a new
connection wait one round trip more, as a TCP handshake would. Nothing else is changed: bytes
are relayed as they come (a client may send several requests at once), and a connection closed on
one side is closed on the other once what was in flight has arrived.

``LatencyRelay`` runs the relay in a process of its own (``python -m tests.support.latency``),
so that its CPU is neither the bench's nor slowed by it; leaving the context stops it.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys

from tests.support.paths import REPO_ROOT
from tests.support.service import Service

CHUNK = 64 * 1024
STOP_TIMEOUT = 10.0


class LatencyRelay(Service):
    """``address`` relays to ``target`` (``HOST:PORT``) with ``delay`` seconds each way."""

    def __init__(self, target: str, delay: float) -> None:
        self.target = target
        self.delay = delay
        self.address = ""
        self._process: subprocess.Popen[str] | None = None

    def _start(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.latency", self.target, str(self.delay)],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        self.address = self._process.stdout.readline().strip()
        if not self.address:
            raise RuntimeError(f"the latency relay to {self.target} did not start")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            process.wait(STOP_TIMEOUT)
            if process.stdout is not None:
                process.stdout.close()


async def _serve(target: str, delay: float) -> None:
    host, port = target.rsplit(":", 1)

    async def relay(client_reader: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        handshake_done = asyncio.get_running_loop().time() + 2 * delay
        try:
            server_reader, server = await asyncio.open_connection(host, int(port))
        except OSError:
            client.close()
            return
        await asyncio.gather(
            _pump(client_reader, server, delay, handshake_done),
            _pump(server_reader, client, delay, handshake_done),
        )

    listener = await asyncio.start_server(relay, "127.0.0.1", 0)
    print(f"127.0.0.1:{listener.sockets[0].getsockname()[1]}", flush=True)
    async with listener:
        await listener.serve_forever()


async def _pump(
    source: asyncio.StreamReader, sink: asyncio.StreamWriter, delay: float, not_before: float
) -> None:
    """Copy ``source`` to ``sink``, each chunk ``delay`` seconds after it came (and not before
    ``not_before``), in order; then close ``sink``."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def read() -> None:
        try:
            while chunk := await source.read(CHUNK):
                queue.put_nowait((max(loop.time() + delay, not_before), chunk))
        except OSError:
            pass
        queue.put_nowait((loop.time() + delay, b""))

    async def write() -> None:
        try:
            while True:
                due, chunk = await queue.get()
                await asyncio.sleep(due - loop.time())
                if not chunk:
                    break
                sink.write(chunk)
                await sink.drain()
        except OSError:
            pass
        finally:
            sink.close()

    await asyncio.gather(read(), write())


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1], float(sys.argv[2])))
