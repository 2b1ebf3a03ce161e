#!/usr/bin/env python3
"""Types on QEMU's emulated PS/2 keyboard through its human monitor (HMP `sendkey`), waiting for
serial output between steps. Usage: qemu_sendkeys.py MONITOR_SOCKET SERIAL_LOG SCRIPT
SCRIPT lines:  wait SECONDS REGEX   (wait until a line of the serial log matches)
               waitn SECONDS N REGEX (until N lines match)
               key NAME             (one sendkey, e.g. ctrl-bracket_right)
               type TEXT            (each character as its key, Shift where needed; \\n is Enter,
                                     \\b Backspace)
Exits 1 with a message when a wait times out."""
import re
import socket
import sys
import time

SHIFTED = {'!': '1', '@': '2', '#': '3', '$': '4', '%': '5', '^': '6', '&': '7', '*': '8',
           '(': '9', ')': '0', '_': 'minus', '+': 'equal', ':': 'semicolon', '"': 'apostrophe',
           '<': 'comma', '>': 'dot', '?': 'slash', '|': 'backslash', '~': 'grave_accent'}
PLAIN = {' ': 'spc', '-': 'minus', '=': 'equal', ';': 'semicolon', "'": 'apostrophe',
         ',': 'comma', '.': 'dot', '/': 'slash', '\\': 'backslash', '`': 'grave_accent',
         '\n': 'ret', '\b': 'backspace'}


def key_of(ch):
    if ch.isalpha():
        return ('shift-' + ch.lower()) if ch.isupper() else ch
    if ch.isdigit():
        return ch
    if ch in PLAIN:
        return PLAIN[ch]
    if ch in SHIFTED:
        return 'shift-' + SHIFTED[ch]
    raise ValueError('no key for %r' % ch)


def main():
    mon_path, log_path, script = sys.argv[1:4]
    mon = socket.socket(socket.AF_UNIX)
    for _ in range(100):
        try:
            mon.connect(mon_path)
            break
        except OSError:
            time.sleep(0.2)
    else:
        sys.exit('qemu_sendkeys: cannot connect to %s' % mon_path)
    mon.settimeout(0.2)
    for line in open(script):
        line = line.rstrip('\n')
        if not line or line.startswith('#'):
            continue
        verb, _, rest = line.partition(' ')
        if verb in ('wait', 'waitn'):
            secs, _, pattern = rest.partition(' ')
            want = 1
            if verb == 'waitn':
                n, _, pattern = pattern.partition(' ')
                want = int(n)
            deadline = time.time() + float(secs)
            rx = re.compile(pattern)
            while True:
                with open(log_path, errors='replace') as f:
                    if sum(1 for l in f if rx.search(l.replace('\r', ''))) >= want:
                        break
                if time.time() > deadline:
                    sys.exit('qemu_sendkeys: timed out after %s s waiting for: %s' % (secs, pattern))
                time.sleep(0.3)
        elif verb == 'key':
            mon.sendall(('sendkey %s\n' % rest).encode())
            time.sleep(0.15)
        elif verb == 'type':
            for ch in rest.encode().decode('unicode_escape'):
                mon.sendall(('sendkey %s\n' % key_of(ch)).encode())
                time.sleep(0.15)  # the hypervisor polls the controller between slices
                try:
                    mon.recv(65536)  # drop HMP's echo
                except socket.timeout:
                    pass
        else:
            sys.exit('qemu_sendkeys: bad script line: %s' % line)


if __name__ == '__main__':
    main()
