#!/usr/bin/env python3
"""Types on an emulated PC's PS/2 keyboard, waiting for serial output between steps.
Usage: sendkeys.py KEYBOARD SERIAL_LOG SCRIPT
KEYBOARD is where the keys go in:
    qemu:SOCKET     QEMU's human monitor on a unix socket (HMP `sendkey NAME`)
    rfb:BOCHS_LOG   Bochs's RFB display (`display_library: rfb`): its port is read from the line
                    "listening for connections on port N" of the Bochs log; keys are RFB KeyEvent
                    messages (X keysyms, press and release), which Bochs turns into scancodes of
                    its emulated keyboard, as from a VNC viewer
SCRIPT lines:  wait SECONDS REGEX   (wait until a line of the serial log matches)
               waitn SECONDS N REGEX (until N lines match)
               key NAME             (one key with modifiers, QEMU's names: ctrl-bracket_right)
               type TEXT            (each character as its key, Shift where needed; \\n is Enter,
                                     \\b Backspace)
Exits 1 with a message when a wait times out."""
import re
import socket
import struct
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


def connect_retrying(make):
    for _ in range(150):
        try:
            return make()
        except OSError:
            time.sleep(0.2)
    sys.exit('sendkeys: cannot connect')


class QemuMonitor:
    """QEMU's HMP: one `sendkey` command a key (QEMU presses and releases it)."""

    def __init__(self, path):
        def make():
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            return s
        self.mon = connect_retrying(make)
        self.mon.settimeout(0.2)

    def press(self, name):
        self.mon.sendall(('sendkey %s\n' % name).encode())
        time.sleep(0.15)  # the hypervisor polls the controller between slices
        self.drain()

    def drain(self):
        try:
            self.mon.recv(65536)  # drop HMP's echo
        except socket.timeout:
            pass


# X keysyms (the RFB protocol's key numbers) of QEMU's key names
KEYSYM = {'spc': 0x20, 'ret': 0xff0d, 'backspace': 0xff08, 'minus': 0x2d, 'equal': 0x3d,
          'semicolon': 0x3b, 'apostrophe': 0x27, 'comma': 0x2c, 'dot': 0x2e, 'slash': 0x2f,
          'backslash': 0x5c, 'grave_accent': 0x60, 'bracket_left': 0x5b, 'bracket_right': 0x5d,
          'esc': 0xff1b, 'tab': 0xff09, 'up': 0xff52, 'down': 0xff54, 'left': 0xff51,
          'right': 0xff53, 'shift': 0xffe1, 'ctrl': 0xffe3, 'alt': 0xffe9}


class RfbViewer:
    """The smallest RFB 3.3 client: no authentication, no framebuffer requests; key events only."""

    def __init__(self, bochs_log):
        port = None
        for _ in range(300):
            try:
                with open(bochs_log, errors='replace') as f:
                    m = re.search(r'listening for connections on port (\d+)', f.read())
            except OSError:
                m = None
            if m:
                port = int(m.group(1))
                break
            time.sleep(0.2)
        if port is None:
            sys.exit('sendkeys: no RFB port in %s' % bochs_log)
        self.sock = connect_retrying(lambda: socket.create_connection(('127.0.0.1', port), 5))
        version = self.recv_exactly(12)
        if not version.startswith(b'RFB 003.'):
            sys.exit('sendkeys: not an RFB server: %r' % version)
        self.sock.sendall(b'RFB 003.003\n')
        if struct.unpack('>I', self.recv_exactly(4))[0] != 1:  # 1: no authentication
            sys.exit('sendkeys: the RFB server wants authentication')
        self.sock.sendall(b'\x01')  # ClientInit: shared
        name_len = struct.unpack('>I', self.recv_exactly(24)[20:24])[0]
        self.recv_exactly(name_len)
        self.sock.settimeout(0)

    def recv_exactly(self, n):
        data = b''
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                sys.exit('sendkeys: the RFB server closed the connection')
            data += chunk
        return data

    def event(self, keysym, down):
        self.sock.sendall(struct.pack('>BBHI', 4, 1 if down else 0, 0, keysym))  # KeyEvent
        time.sleep(0.04)
        self.drain()

    def drain(self):
        """Reads and drops the screen updates Bochs sends unasked: left unread they would fill
        the socket and stall the emulator."""
        try:
            while self.sock.recv(65536):
                pass
        except (BlockingIOError, socket.timeout):
            pass

    def press(self, name):
        *mods, base = name.split('-')
        keysym = KEYSYM.get(base, ord(base) if len(base) == 1 else None)
        if keysym is None or any(m not in KEYSYM for m in mods):
            sys.exit('sendkeys: no keysym for %s' % name)
        for m in mods:
            self.event(KEYSYM[m], True)
        self.event(keysym, True)
        self.event(keysym, False)
        for m in reversed(mods):
            self.event(KEYSYM[m], False)
        time.sleep(0.05)


def main():
    keyboard, log_path, script = sys.argv[1:4]
    kind, _, where = keyboard.partition(':')
    if kind == 'qemu':
        kbd = QemuMonitor(where)
    elif kind == 'rfb':
        kbd = RfbViewer(where)
    else:
        sys.exit('sendkeys: unknown keyboard %s' % keyboard)
    lines = [l.rstrip('\n') for l in open(script)]
    lines = [l for l in lines if l and not l.startswith('#')]
    for i, line in enumerate(lines):
        try:
            step(kbd, log_path, line)
        except (ConnectionResetError, BrokenPipeError):
            # the last keys may end the run (poweroff): the emulator goes while they are sent,
            # and the test checks how it ended
            if i != len(lines) - 1:
                raise
            break


def step(kbd, log_path, line):
    """One script line: wait, waitn, key or type."""
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
                sys.exit('sendkeys: timed out after %s s waiting for: %s' % (secs, pattern))
            kbd.drain()
            time.sleep(0.3)
    elif verb == 'key':
        kbd.press(rest)
    elif verb == 'type':
        for ch in rest.encode().decode('unicode_escape'):
            kbd.press(key_of(ch))
    else:
        sys.exit('sendkeys: bad script line: %s' % line)


if __name__ == '__main__':
    main()
