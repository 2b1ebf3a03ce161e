#!/usr/bin/env python3
"""console_driver.py: talks to an emulated COM1 over TCP (Bochs `com1: mode=socket-server`, or QEMU
`-serial tcp:127.0.0.1:PORT,server=on,wait=on` as lib.sh's run_vm_console starts them).

    console_driver.py PORT LOG SCRIPT

Connects to localhost:PORT (retrying while the emulator starts), records every byte received in
LOG (raw, with the CR and escape bytes the console sends), and runs SCRIPT, one step a line:

    expect SECONDS REGEX   wait until REGEX (Python re, MULTILINE) matches the output received
                           after the previous expect's match; fail after SECONDS
    send TEXT              type TEXT (Python escapes: \\r Enter, \\x1d Ctrl-], \\x1b[A Up, ...),
                           one byte every 2 ms, as a person or a terminal would
    sleep SECONDS
    mark NAME              print NAME with the offset reached (for the test's later checks) and
                           the seconds since the connection

Output is matched as a terminal would show it (a small emulation: CR returns to the line's start,
ESC [ K clears to its end, ESC [ n D / C move left / right, BS moves left, LF ends the line), so a
prompt erased and redrawn around a VM's line is not part of that line. LOG.screen gets those
lines. Exits 0 when every step passed, 1 at the first failure (saying which),
and keeps reading until the emulator closes the socket or 10 s pass after the last step. After a
failure it types Ctrl-] and "poweroff" so that the run ends at once.
"""
import re
import socket
import sys
import time

ESCAPE = re.compile(rb"\x1b\[([0-9;?]*)([A-Za-z])")


def screen(raw):
    """The lines a terminal shows for raw (the last one unfinished)."""
    lines, line, cur, i = [], [], 0, 0
    while i < len(raw):
        b = raw[i]
        if b == 0x1b:
            m = ESCAPE.match(raw, i)
            if not m:
                if len(raw) - i < 8:
                    break  # the rest of the sequence has not arrived yet
                i += 1
                continue
            n = int(m.group(1) or b"1") if m.group(1).isdigit() else 1
            op = m.group(2)
            if op == b"K":
                del line[cur:]
            elif op == b"D":
                cur = max(0, cur - n)
            elif op == b"C":
                cur = cur + n
            i = m.end()
            continue
        i += 1
        if b == 0x0d:
            cur = 0
        elif b == 0x0a:
            lines.append(bytes(line).decode("latin-1"))
            line, cur = [], 0
        elif b == 0x08:
            cur = max(0, cur - 1)
        else:
            while len(line) < cur:
                line.append(0x20)
            if cur < len(line):
                line[cur] = b
            else:
                line.append(b)
            cur += 1
    return "\n".join(lines + [bytes(line).decode("latin-1")])


def main():
    port, log_path, script_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    steps = [l.rstrip("\n") for l in open(script_path) if l.strip() and not l.startswith("#")]
    sock = None
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    if sock is None:
        print("console_driver: cannot connect to port %d" % port)
        return 1
    sock.settimeout(0.1)
    connected = time.time()
    log = open(log_path, "wb")
    raw = bytearray()
    closed = False

    def pump():
        nonlocal closed
        if closed:
            return
        try:
            data = sock.recv(65536)
            if not data:
                closed = True
                return
            raw.extend(data)
            log.write(data)
            log.flush()
        except socket.timeout:
            pass
        except OSError:
            closed = True

    searched = 0  # expect looks at the cleaned text from here
    ok = True
    for step in steps:
        word, _, rest = step.partition(" ")
        if word == "expect":
            secs, _, pattern = rest.partition(" ")
            rx = re.compile(pattern, re.MULTILINE)
            end = time.time() + float(secs)
            while True:
                text = screen(bytes(raw))
                m = rx.search(text, searched)
                if m:
                    # the unfinished last line may still be redrawn: search it again next time
                    if "\n" in text[m.end():]:
                        searched = m.end()
                    else:
                        searched = text.rfind("\n", 0, m.start()) + 1
                    break
                if time.time() > end or closed:
                    print("console_driver: FAILED step '%s' (%s)" %
                          (step, "connection closed" if closed else "timed out"))
                    ok = False
                    break
                pump()
            if not ok:
                break
        elif word == "send":
            data = rest.encode("latin-1").decode("unicode_escape").encode("latin-1")
            for b in data:
                try:
                    sock.sendall(bytes([b]))
                except OSError:
                    closed = True
                    break
                time.sleep(0.002)
                pump()
        elif word == "sleep":
            end = time.time() + float(rest)
            while time.time() < end:
                pump()
        elif word == "mark":
            print("console_driver: mark %s at %d after %.0f s" % (rest, searched, time.time() - connected))
        else:
            print("console_driver: bad step '%s'" % step)
            ok = False
            break
    if not ok and not closed:
        # end the run rather than leave the emulator to its timeout: back to the monitor, poweroff
        try:
            sock.sendall(b"\x1d\r\x15poweroff\r")
        except OSError:
            pass
    end = time.time() + 10
    while not closed and time.time() < end:
        pump()
    log.close()
    with open(log_path + ".screen", "w", encoding="latin-1") as out:
        out.write(screen(bytes(raw)) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
