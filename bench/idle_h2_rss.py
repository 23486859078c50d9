#!/usr/bin/env python3
"""idle_h2_rss.py — RSS of a running gateway holding N idle HTTP/2 connections.

Opens N cleartext HTTP/2 (prior knowledge) connections to HOST:PORT, completes
the connection preface and SETTINGS exchange on each, sends one request on
every connection (so each has served traffic, as a real client would), then
keeps them idle and samples the gateway's VmRSS from /proc/PID/status.
Bounded: it closes everything and exits after the measurement.

usage: idle_h2_rss.py PID PORT [N] [PATH]
"""
import resource
import selectors
import socket
import sys
import time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"          # empty SETTINGS
SETTINGS_ACK = b"\x00\x00\x00\x04\x01\x00\x00\x00\x00"


def hpack_literal(name, value):
    # literal header field without indexing, new name (RFC 7541 §6.2.2), no Huffman
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def headers_frame(path, authority):
    block = (b"\x82"                       # :method GET
             + b"\x86"                     # :scheme http
             + hpack_literal(b":path", path)
             + hpack_literal(b":authority", authority))
    return len(block).to_bytes(3, "big") + b"\x01\x05" + (1).to_bytes(4, "big") + block  # END_STREAM|END_HEADERS, stream 1


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    pid, port = int(sys.argv[1]), int(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 5000
    path = (sys.argv[4] if len(sys.argv) > 4 else "/bench/").encode()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 100), hard))
    before = rss_kb(pid)
    sel = selectors.DefaultSelector()
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(PREFACE + SETTINGS + SETTINGS_ACK + headers_frame(path, f"127.0.0.1:{port}".encode()))
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        socks.append(s)
    # drain the server's SETTINGS and responses so every connection reaches the idle state
    deadline = time.time() + 10
    while time.time() < deadline:
        events = sel.select(timeout=0.5)
        if not events:
            break
        for key, _ in events:
            try:
                key.fileobj.recv(65536)
            except BlockingIOError:
                pass
    time.sleep(1)
    samples = [rss_kb(pid) for _ in range(3) if not time.sleep(0.3)]
    print(f"idle HTTP/2 connections: {n}; gateway RSS before: {before / 1024:.1f} MiB, "
          f"with connections open: {max(samples) / 1024:.1f} MiB "
          f"({(max(samples) - before) / n:.1f} KiB per connection)")
    for s in socks:
        s.close()


if __name__ == "__main__":
    main()
