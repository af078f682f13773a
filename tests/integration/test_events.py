"""GET /api/events: Server-Sent Events per agent, fanned out between instances through Redis
pub/sub (SPEC §3, §4). Two daemons share one PostgreSQL and one Redis; an SSE client on one
receives the call_status event an initiate on the other produces; resume by Last-Event-ID,
heartbeats, caps, a Redis outage and SIGTERM with open streams."""

import json
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import DaemonTestCase, RedisServer, wait_for  # noqa: E402
from sse import SseStream, StreamEnded  # noqa: E402,F401

TO = "+14155550123"
CONFIG = {"server": {"sse_heartbeat_s": 1}}


class EventsCase(DaemonTestCase):
    config = CONFIG

    def setUp(self):
        super().setUp()
        self.streams = []

    def tearDown(self):
        for s in self.streams:
            s.close()

    def open(self, daemon=None, token=None, **kw):
        d = daemon or self.daemon
        s = SseStream(d.port, token or self.key, **kw)
        self.streams.append(s)
        return s

    def open_ok(self, daemon=None, token=None, **kw):
        """Open a stream, check the response head and the retry hint; return it."""
        s = self.open(daemon, token, **kw)
        self.assertEqual(s.status, 200, s.body)
        self.assertTrue(s.headers.get("content-type", "").startswith("text/event-stream"))
        self.assertEqual(s.headers.get("cache-control"), "no-cache")
        self.assertEqual(s.headers.get("x-accel-buffering"), "no")
        self.assertEqual(s.next_block(10), {"retry": "3000"})
        return s

    def initiate(self, daemon=None, token=None, body=None, **kw):
        d = daemon or self.daemon
        resp = d.initiate(body or {"to": TO}, token=token or self.key, **kw)
        self.assertStatus(resp, 202)
        return resp.body["call_id"]

    def second(self, **kw):
        """A second instance on the same database and Redis (a load-balanced peer)."""
        b = self.new_daemon(self.config, db=self.daemon.db, **kw)
        b.token = self.key
        b.start()
        return b

    def metric(self, daemon, name):
        text = daemon.get("/metrics", token=None).raw.decode()
        m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
        return float(m.group(1)) if m else None

    def wait_subscribed(self, daemon, timeout=15):
        wait_for(lambda: self.metric(daemon, "callbridge_events_subscribed") == 1, timeout,
                 "the events subscription on port %d" % daemon.port)

    def assertCallStatus(self, ev, call_id):
        data = json.loads(ev["data"])
        self.assertEqual(data, {"call_id": call_id, "status": "queued",
                                "direction": "outbound", "to": TO})


class TestEvents(EventsCase):

    def test_fan_out_between_instances_per_agent(self):
        b = self.second()
        bob = self.daemon.apikey("bob")
        self.wait_subscribed(self.daemon)
        self.wait_subscribed(b)
        alice_a = self.open_ok()
        bob_a = self.open_ok(token=bob)
        call = self.initiate(daemon=b)
        ev, skipped = alice_a.event_for_call(call)
        self.assertEqual(skipped, [])
        self.assertCallStatus(ev, call)
        self.assertRegex(ev["id"], r"^[1-9][0-9]*$")
        alice_id = int(ev["id"])
        # bob's own event is the first he gets: alice's never reached his stream.
        bob_call = self.initiate(daemon=b, token=bob)
        ev, skipped = bob_a.event_for_call(bob_call)
        self.assertEqual(skipped, [])
        self.assertGreater(int(ev["id"]), alice_id)  # ids are global and increasing
        self.assertGreaterEqual(self.metric(self.daemon, "callbridge_events_streams"), 2)
        self.assertGreaterEqual(self.metric(b, "callbridge_events_published_total"), 2)

    def test_idempotent_replay_publishes_nothing(self):
        s = self.open_ok()
        first = self.initiate(headers={"Idempotency-Key": "k-1"})
        s.event_for_call(first)
        self.assertEqual(self.initiate(headers={"Idempotency-Key": "k-1"}), first)
        second = self.initiate()
        ev, skipped = s.event_for_call(second)
        self.assertEqual(skipped, [])

    def test_resume_replays_exactly_the_missed_events_on_another_instance(self):
        b = self.second()
        self.wait_subscribed(b)
        s = self.open_ok()
        first = self.initiate()
        ev, _ = s.event_for_call(first)
        last_id = ev["id"]
        s.close()
        missed = [self.initiate(), self.initiate(daemon=b)]
        # Both instances have buffered them once they come back from Redis.
        wait_for(lambda: self.metric(b, "callbridge_events_received_total") >= 3, 10,
                 "instance B to receive the events")
        r = self.open_ok(daemon=b, last_event_id=last_id)
        got = [json.loads(r.next_event()["data"])["call_id"] for _ in missed]
        self.assertEqual(got, missed)
        after = self.initiate()
        ev, skipped = r.event_for_call(after)
        self.assertEqual(skipped, [])  # nothing replayed twice
        # The query-string form, on instance A.
        q = self.open_ok(query="?last_event_id=%s" % last_id)
        got = [json.loads(q.next_event()["data"])["call_id"] for _ in range(3)]
        self.assertEqual(got, missed + [after])

    def test_resume_from_an_id_older_than_the_buffer_resets(self):
        s = self.open_ok(last_event_id=1)
        ev = s.next_event()
        self.assertEqual(ev["event"], "reset")
        self.assertNotIn("id", ev)
        call = self.initiate()
        s.event_for_call(call)

    def test_heartbeat(self):
        s = self.open_ok()
        deadline = time.monotonic() + 5
        while True:
            block = s.next_block(max(0.0, deadline - time.monotonic()))
            self.assertIsNotNone(block, "no heartbeat within 5 s")
            if block.get(":") == ["ping"]:
                break
        self.assertGreaterEqual(self.metric(self.daemon, "callbridge_events_streams"), 1)

    def test_errors(self):
        self.assertError(self.daemon.get("/api/events", token=None), 401, "unauthorized")
        self.assertError(self.daemon.get("/api/events", token="cbk_0000_notakey"), 401,
                         "unauthorized")
        self.assertError(self.daemon.get("/api/events", headers={"Last-Event-ID": "abc"}), 400,
                         "invalid_query")
        self.assertError(self.daemon.get("/api/events?last_event_id=-1"), 400, "invalid_query")
        self.assertError(self.daemon.post("/api/events", {}), 405, "method_not_allowed")

    def test_sigterm_ends_open_streams_and_exits_promptly(self):
        streams = [self.open_ok() for _ in range(3)]
        t0 = time.monotonic()
        self.daemon.kill(signal.SIGTERM)
        self.assertEqual(self.daemon.wait_exit(8), 0)
        self.assertLess(time.monotonic() - t0, 5)
        for s in streams:
            with self.assertRaises(StreamEnded):
                while True:
                    s.next_block(5)
            self.assertTrue(s.clean_end, "stream not ended with the last chunk")


class TestEventsCaps(EventsCase):
    config = harness.merge_config(CONFIG, {"server": {"sse_max_streams": 3,
                                                      "sse_max_streams_per_agent": 2}})

    def test_caps(self):
        bob = self.daemon.apikey("bob")
        a1 = self.open_ok()
        self.open_ok()
        self.assertError(self.daemon.get("/api/events"), 429, "too_many_streams")
        self.open_ok(token=bob)
        self.assertError(self.daemon.get("/api/events", token=bob), 503, "not_ready")
        a1.close()
        wait_for(lambda: self.metric(self.daemon, "callbridge_events_streams") == 2, 10,
                 "the closed stream to be noticed (heartbeat write fails)")
        self.open_ok(token=bob)


class TestEventsSlotsFreedOnHangUp(EventsCase):
    """A client that leaves gives its slot back at once, not at the next heartbeat (here a
    minute away): closing every stream and reconnecting immediately is 200."""
    config = harness.merge_config(CONFIG, {"server": {"sse_heartbeat_s": 60,
                                                      "sse_max_streams": 3,
                                                      "sse_max_streams_per_agent": 2}})

    def test_reconnect_right_after_closing_gets_a_stream(self):
        bob = self.daemon.apikey("bob")
        first = [self.open_ok(), self.open_ok()]
        self.assertError(self.daemon.get("/api/events"), 429, "too_many_streams")
        for s in first:
            s.close()
        again = [self.open_ok(), self.open_ok()]        # the agent's cap
        self.open_ok(token=bob)                          # the instance's cap: 3 open
        again[0].close()
        self.open_ok(token=bob)                          # a slot freed by a hang-up, at once


class TestEventsRedisOutage(EventsCase):

    def setUp(self):
        self.redis = RedisServer()
        self.addCleanup(self.redis.destroy)
        self.config = harness.merge_config(CONFIG, {"redis": {"url": self.redis.url,
                                                              "timeout_ms": 200}})
        super().setUp()

    def test_local_delivery_while_redis_is_down_then_fan_out_again(self):
        b = self.second()
        self.wait_subscribed(self.daemon)
        self.wait_subscribed(b)
        s = self.open_ok()
        self.redis.stop()
        wait_for(lambda: self.metric(self.daemon, "callbridge_events_subscribed") == 0, 10,
                 "instance A to notice Redis is gone")
        local = self.initiate()
        ev, _ = s.event_for_call(local)
        self.assertNotIn("id", ev)  # local-only events carry no id
        self.assertCallStatus(ev, local)
        self.assertGreaterEqual(self.metric(self.daemon, "callbridge_events_local_only_total"), 1)

        self.redis.start()
        self.wait_subscribed(self.daemon)
        self.wait_subscribed(b)
        ev = s.next_event(skip_types=("call_status", "agent_status"))
        self.assertEqual((ev["event"], json.loads(ev["data"])),
                         ("reset", {"reason": "resubscribed"}))
        # B's HTTP threads reconnect to Redis within a second: until then its publishes are
        # local to B. Retry until one reaches A's stream.

        def fanned_out():
            call = self.initiate(daemon=b)
            try:
                ev, _ = s.event_for_call(call, timeout=2)
            except AssertionError:
                return None
            return ev
        ev = wait_for(fanned_out, 20, "an event from instance B on A's stream after Redis is back")
        self.assertRegex(ev["id"], r"^[1-9][0-9]*$")
        self.assertGreaterEqual(
            self.metric(self.daemon, "callbridge_events_subscriber_reconnects_total"), 1)


if __name__ == "__main__":
    harness.main()
