"""Runs a command on a fresh pseudo-terminal (its controlling terminal) and types a passphrase
at every prompt that mentions one. Usage: pty-type.py PASSPHRASE PROGRAM ARGS...
Writes what the terminal showed to stderr; exits with the program's exit code."""

import os
import pty
import select
import sys
import time

passphrase = sys.argv[1].encode()
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
shown, typed = b"", 0
deadline = time.time() + 120
while time.time() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.2)
    if not ready:
        continue
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        break
    if not chunk:
        break
    shown += chunk
    prompts = shown.lower().count(b"passphrase")
    if prompts > typed:
        time.sleep(0.1)
        os.write(fd, passphrase + b"\r")
        typed = prompts
_, status = os.waitpid(pid, 0)
sys.stderr.write(shown.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
