"""A raw-socket Server-Sent Events client for the integration tests (GET /api/events): reads
the chunked stream, splits it into event blocks, and waits with deadlines, never sleeps."""

import json
import select
import socket
import time

import openapi_check


class StreamEnded(Exception):
    pass


class SseStream:
    """A raw-socket SSE client: sends GET /api/events, parses the status line, headers and the
    chunked body, and hands out one event block at a time. `clean_end` is True once the
    terminating zero-length chunk arrived."""

    def __init__(self, port, token, last_event_id=None, query="", timeout=10, headers=None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        hdrs = {"Host": "127.0.0.1:%d" % port, "Accept": "text/event-stream"}
        if token is not None:
            hdrs["Authorization"] = "Bearer %s" % token
        if last_event_id is not None:
            hdrs["Last-Event-ID"] = str(last_event_id)
        hdrs.update(headers or {})  # e.g. a session cookie
        self.query = query
        head = "GET /api/events%s HTTP/1.1\r\n" % query
        head += "".join("%s: %s\r\n" % kv for kv in hdrs.items()) + "\r\n"
        self.sock.sendall(head.encode("latin-1"))
        self.raw = b""
        self.body = b""
        self.eof = False
        self.clean_end = False
        self.chunked = False
        self._read_head(time.monotonic() + timeout)

    def close(self):
        self.sock.close()

    def _recv(self, deadline):
        """Read what the socket has, waiting until `deadline`. False on EOF."""
        left = deadline - time.monotonic()
        if left <= 0:
            return True
        readable, _, _ = select.select([self.sock], [], [], left)
        if not readable:
            return True
        data = self.sock.recv(65536)
        if not data:
            self.eof = True
            return False
        self.raw += data
        return True

    def _read_head(self, deadline):
        while b"\r\n\r\n" not in self.raw:
            if not self._recv(deadline) or time.monotonic() >= deadline:
                raise AssertionError("no response head: %r" % self.raw)
        head, self.raw = self.raw.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {}
        for line in lines[1:]:
            k, v = line.split(":", 1)
            self.headers[k.strip().lower()] = v.strip()
        self.chunked = self.headers.get("transfer-encoding", "").lower() == "chunked"
        if not self.chunked and "content-length" in self.headers:
            n = int(self.headers["content-length"])
            while len(self.raw) < n and self._recv(deadline):
                pass
            self.body, self.raw = self.raw[:n], self.raw[n:]
        # The answer must be what docs/openapi.yaml says (the stream's body: check_event).
        openapi_check.check_head(None, "GET", "/api/events" + self.query, self.status,
                                 self.headers, b"" if self.chunked else self.body)

    def _decode(self):
        """Move complete chunks from raw to body."""
        if not self.chunked:
            self.body += self.raw
            self.raw = b""
            return
        while b"\r\n" in self.raw and not self.clean_end:
            size_line, rest = self.raw.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                self.clean_end = rest.startswith(b"\r\n")
                return
            if len(rest) < size + 2:
                return
            self.body += rest[:size]
            self.raw = rest[size + 2:]

    def next_block(self, timeout):
        """The next event block as a dict (field -> value, comments under ':'), or None when
        `timeout` passes. Raises StreamEnded when the stream ends."""
        deadline = time.monotonic() + timeout
        while True:
            self._decode()
            if b"\n\n" in self.body:
                block, self.body = self.body.split(b"\n\n", 1)
                out = {}
                for line in block.decode("utf-8").split("\n"):
                    if line.startswith(":"):
                        out.setdefault(":", []).append(line[1:].strip())
                    else:
                        k, _, v = line.partition(":")
                        out[k] = v[1:] if v.startswith(" ") else v
                # Each event's data must be what docs/openapi.yaml says (SseEvent).
                openapi_check.check_event(None, out)
                return out
            if self.clean_end or self.eof:
                raise StreamEnded("stream ended (clean=%s); rest %r" % (self.clean_end,
                                                                        self.body))
            if time.monotonic() >= deadline:
                return None
            self._recv(deadline)

    def next_event(self, timeout=10, skip_types=()):
        """The next block that is an event (not a ping or retry hint; not one of
        `skip_types`); AssertionError after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            block = self.next_block(max(0.0, deadline - time.monotonic()))
            if block is None:
                raise AssertionError("no event within %gs" % timeout)
            if "event" in block and block["event"] not in skip_types:
                return block

    def event_for_call(self, call_id, timeout=10):
        """Read events until the call_status of `call_id`; return (it, events skipped)."""
        deadline = time.monotonic() + timeout
        skipped = []
        while True:
            ev = self.next_event(max(0.0, deadline - time.monotonic()))
            if ev["event"] == "call_status" and json.loads(ev["data"])["call_id"] == call_id:
                return ev, skipped
            skipped.append(ev)
