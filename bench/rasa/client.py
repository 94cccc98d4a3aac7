"""One small asyncio HTTP/1.1 client for both servers: keep-alive connections over raw streams,
so the client's own cost is the same (and small) whichever server answers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Answer:
    status: int  # 0: no HTTP answer (connection refused or reset, timeout)
    body: bytes
    ms: float


@dataclass(frozen=True, slots=True)
class Load:
    answers: tuple[Answer, ...]  # in the order of the requests
    seconds: float  # wall time from the first request sent to the last answer


def percentile(values: Sequence[float], fraction: float) -> float:
    """The sorted value at index round(fraction × (n − 1)), as bench/nlu computes it."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summarise(load: Load) -> dict[str, float]:
    """Requests per second (successful answers over the wall time), p50/p99 of the successful
    answers in ms, and the number of errors (no answer, or a status other than 200)."""
    ok = [a.ms for a in load.answers if a.status == 200]
    return {
        "requests": float(len(load.answers)),
        "req_per_s": len(ok) / load.seconds if load.seconds > 0 else 0.0,
        "p50_ms": percentile(ok, 0.50),
        "p99_ms": percentile(ok, 0.99),
        "errors": float(len(load.answers) - len(ok)),
    }


def encode_request(host: str, port: int, path: str, body: bytes) -> bytes:
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Content-Type: application/json\r\nConnection: keep-alive\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode("ascii") + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, the server keeps the connection open)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int((await reader.readline()).split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                await reader.readline()  # the empty line after the last chunk
                break
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(parts)
    else:
        body = await reader.read()
        return status, body, False
    return status, body, headers.get("connection", "").lower() != "close"


async def run_load(host: str, port: int, requests: Sequence[tuple[str, bytes]], *,
                   connections: int, seconds_each: float = 30.0) -> Load:
    """Send every (path, JSON body) over ``connections`` keep-alive connections, each sending
    its next request when the previous one is answered; ``seconds_each`` bounds each connect
    and each answer (past it the request counts as an error, status 0)."""
    answers: list[Answer | None] = [None] * len(requests)
    next_index = iter(range(len(requests)))

    async def worker() -> None:
        stream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        for index in next_index:
            path, body = requests[index]
            begin = time.perf_counter()
            try:
                if stream is None:
                    stream = await asyncio.wait_for(asyncio.open_connection(host, port),
                                                    seconds_each)
                reader, writer = stream
                writer.write(encode_request(host, port, path, body))
                await writer.drain()
                status, answer, keep = await asyncio.wait_for(read_response(reader),
                                                              seconds_each)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                answers[index] = Answer(0, b"", (time.perf_counter() - begin) * 1000)
                if stream is not None:
                    stream[1].close()
                stream = None
                continue
            answers[index] = Answer(status, answer, (time.perf_counter() - begin) * 1000)
            if not keep:
                writer.close()
                stream = None
        if stream is not None:
            stream[1].close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(max(1, min(connections, len(requests))))))
    seconds = time.perf_counter() - started
    return Load(tuple(a if a is not None else Answer(0, b"", 0.0) for a in answers), seconds)
