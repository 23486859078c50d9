#!/usr/bin/env python3
"""HTTP/2 Rapid Reset (CVE-2023-44487): a client that opens streams and resets
them at once must not make the gateway forward an unbounded number of requests
to a department service. h2o 2.2.5 has no mitigation of its own; the gateway
closes the connection after CANCELLED_STREAMS_MAX (100) streams reset before an
answer within 10 s (gateway/client_connection.h)."""

import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from yiwang_testlib import Gateway, Upstream, curl, make_config, route, service  # noqa: E402

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
SETTINGS_ACK = b"\x00\x00\x00\x04\x01\x00\x00\x00\x00"
ATTACK_STREAMS = 1000


def frame(kind, flags, stream_id, payload):
    return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream_id.to_bytes(4, "big") + payload


def literal(name, value):
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def get_then_reset(stream_id, authority, path):
    block = b"\x82\x86" + literal(b":path", path) + literal(b":authority", authority)  # GET, http
    headers = frame(0x1, 0x05, stream_id, block)                                        # END_STREAM | END_HEADERS
    rst = frame(0x3, 0x00, stream_id, (8).to_bytes(4, "big"))                          # RST_STREAM CANCEL
    return headers + rst


class RapidResetTest(unittest.TestCase):
    def test_connection_closed_and_upstream_spared(self):
        with Upstream("dept") as dept:
            cfg = make_config([service("dept", [dept])], [route("dept", "/dept/", "dept")], threads=1)
            with Gateway(cfg) as gw:
                authority = ("127.0.0.1:%d" % gw.public_port).encode()
                dept.reset_stats()
                sock = socket.create_connection(("127.0.0.1", gw.public_port), timeout=10)
                sock.sendall(PREFACE + SETTINGS + SETTINGS_ACK)
                closed = False
                sent = 0
                try:
                    for batch in range(ATTACK_STREAMS // 50):
                        data = b"".join(get_then_reset(2 * (batch * 50 + i) + 1, authority, b"/dept/x?sleep_ms=50")
                                        for i in range(50))
                        sock.sendall(data)
                        sent += 50
                        time.sleep(0.01)
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
                # the gateway must close the connection on its own
                sock.settimeout(5)
                deadline = time.monotonic() + 5
                while not closed and time.monotonic() < deadline:
                    try:
                        if sock.recv(65536) == b"":
                            closed = True
                    except (ConnectionResetError, BrokenPipeError):
                        closed = True
                    except socket.timeout:
                        break
                sock.close()
                self.assertTrue(closed, "connection still open after %d reset streams" % sent)
                time.sleep(0.5)  # let requests already on their way arrive
                reached = dept.stats()["requests"]
                self.assertLess(reached, 300, "%d of %d reset streams were forwarded" % (reached, sent))
                # the gateway keeps serving everyone else
                result = curl("--http2-prior-knowledge", gw.public_url + "/dept/after")
                self.assertEqual(result[0], 200)
                metrics = curl(gw.ops_url + "/metrics")[2].decode()
                self.assertIn("yiwang_http2_rapid_reset_closes_total 1", metrics)
                self.assertNotIn("AddressSanitizer", gw.stderr())


if __name__ == "__main__":
    unittest.main()
