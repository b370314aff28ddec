#!/usr/bin/env python3
"""A WebSocket server that pings (RFC 6455), for integration.websocketd_10k: the held-connection path.

usage: ws_pinger.py PORT N

Listens on 127.0.0.1:PORT, upgrades N connections (checking each Sec-WebSocket-Key is new), then pings
each one, the ping written in two pieces, and checks the reply is a masked pong with the ping's payload.
Then it sends connection 0 a close frame (status 1001) and waits until the client has closed the others.
Prints "keys distinct: K of N" and "pongs right: P of N"; exits 0 when both are N, 1 otherwise.
"""
import base64
import hashlib
import socket
import sys
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def recv_exact(c, n):
    d = b""
    while len(d) < n:
        chunk = c.recv(n - len(d))
        if not chunk:
            raise EOFError("closed after %d of %d bytes" % (len(d), n))
        d += chunk
    return d


def main():
    port, n = int(sys.argv[1]), int(sys.argv[2])
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(1024)
    ls.settimeout(30)
    conns, keys = [], set()
    while len(conns) < n:
        c, _ = ls.accept()
        c.settimeout(10)
        req = b""
        while b"\r\n\r\n" not in req:
            req += c.recv(4096)
        key = [l.split(b":", 1)[1].strip() for l in req.split(b"\r\n")
               if l.lower().startswith(b"sec-websocket-key:")][0]
        keys.add(key)
        acc = base64.b64encode(hashlib.sha1(key + GUID).digest())
        c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Accept: " + acc + b"\r\n\r\n")
        conns.append(c)
    print("keys distinct: %d of %d" % (len(keys), n), flush=True)
    time.sleep(0.5)  # the client holds them now
    right = 0
    for i, c in enumerate(conns):
        payload = b"c1m ping %06d" % i
        c.sendall(bytes([0x89, len(payload)]) + payload[:5])
        time.sleep(0.002)
        c.sendall(payload[5:])
        head = recv_exact(c, 6)
        if head[0] != 0x8A or head[1] != (0x80 | len(payload)):
            print("connection %d: not a masked pong of %d bytes: %r" % (i, len(payload), head), flush=True)
            continue
        body = recv_exact(c, len(payload))
        right += bytes(b ^ head[2 + j % 4] for j, b in enumerate(body)) == payload
    print("pongs right: %d of %d" % (right, n), flush=True)
    conns[0].sendall(b"\x88\x02\x03\xe9")
    for c in conns[1:]:
        c.settimeout(30)
        try:
            while c.recv(4096):
                pass
        except OSError:
            pass
    return 0 if right == n and len(keys) == n else 1


if __name__ == "__main__":
    sys.exit(main())
