#!/usr/bin/env python3
"""A misbehaving RELP server for tests/syslog.sh, on 127.0.0.1:PORT.

Usage: relp_fake.py MODE PORT OUT
  refuse       answers odd TXNRs "500 no", even ones "200 OK"
  serverclose  every 100th message: the "serverclose" hint, then closes
               without answering it
  garbage      every 50th message: a malformed frame instead of its answer
Each syslog message it receives is appended to OUT, one a line.  Exits by
itself after 20 s, or on SIGTERM; every socket has a timeout.
"""
import re
import signal
import socket
import sys
import time

mode, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(5)
srv.settimeout(1)
head = re.compile(rb"(\d{1,9}) ([a-zA-Z]{1,32}) (\d{1,9})")
got = 0
end = time.time() + 20
with open(out, "ab", buffering=0) as log:
    while time.time() < end:
        try:
            c, _ = srv.accept()
        except socket.timeout:
            continue
        c.settimeout(2)
        buf = b""
        try:
            while time.time() < end:
                d = c.recv(65536)
                if not d:
                    break
                buf += d
                while True:
                    m = head.match(buf)
                    if not m:
                        break
                    txnr, cmd, dl = int(m.group(1)), m.group(2), int(m.group(3))
                    total = m.end() + (1 + dl if dl else 0) + 1
                    if len(buf) < total:
                        break
                    data = buf[m.end() + 1:m.end() + 1 + dl] if dl else b""
                    buf = buf[total:]
                    if cmd == b"open":
                        o = b"200 OK\nrelp_version=0\nrelp_software=fake\ncommands=syslog"
                        c.sendall(b"%d rsp %d %s\n" % (txnr, len(o), o))
                        continue
                    if cmd == b"close":
                        c.sendall(b"%d rsp 0\n" % txnr)
                        continue
                    got += 1
                    log.write(data + b"\n")
                    if mode == "refuse":
                        c.sendall(b"%d rsp 6 %s\n" % (txnr, b"500 no" if txnr % 2 else b"200 OK"))
                    elif mode == "serverclose" and got % 100 == 0:
                        c.sendall(b"0 serverclose 0\n")
                        raise ConnectionError
                    elif mode == "garbage" and got % 50 == 0:
                        c.sendall(b"12 rsp x\n")
                    else:
                        c.sendall(b"%d rsp 6 200 OK\n" % txnr)
        except (OSError, ConnectionError):
            pass
        c.close()
