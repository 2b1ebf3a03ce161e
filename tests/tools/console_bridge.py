#!/usr/bin/env python3
"""console_bridge.py PORT LOG: the terminal of `make run` under Bochs.

Connects to Bochs's COM1 (`com1: mode=socket-server`, localhost:PORT, retrying while Bochs
starts), shows what the hypervisor sends, copies it to LOG, and types what you type: with a
terminal on stdin it switches it to raw mode, so arrows, Ctrl-U, Ctrl-C and Ctrl-] reach the
monitor as keys. Ctrl-\\ leaves the bridge (and so the run); so does the monitor's `poweroff`,
which ends Bochs and closes the socket. Without a terminal on stdin it only shows the output.
"""
import os
import select
import socket
import sys
import termios
import time
import tty

QUIT = 0x1c  # Ctrl-\


def main():
    port, log_path = int(sys.argv[1]), sys.argv[2]
    sock = None
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    if sock is None:
        print("console_bridge: cannot connect to Bochs on port %d" % port)
        return 1
    sock.setblocking(False)
    interactive = os.isatty(0)
    saved = termios.tcgetattr(0) if interactive else None
    log = open(log_path, "ab")
    try:
        if interactive:
            tty.setraw(0)
        inputs = [sock, 0] if interactive else [sock]
        while True:
            ready, _, _ = select.select(inputs, [], [], 0.5)
            if sock in ready:
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    data = b""
                    continue
                if not data:
                    break  # Bochs ended
                os.write(1, data)
                log.write(data)
                log.flush()
            if 0 in ready:
                keys = os.read(0, 1024)
                if not keys or QUIT in keys:
                    break
                sock.sendall(keys)
    finally:
        if saved is not None:
            termios.tcsetattr(0, termios.TCSADRAIN, saved)
        log.close()
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
