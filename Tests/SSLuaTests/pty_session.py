#!/usr/bin/env python3
"""Drives a program in a pseudo-terminal, for the REPL tests in ProgramTests.swift.

usage: pty_session.py PROGRAM [ARGS...] -- STEP...

Steps run in order:
  send:TEXT     write TEXT to the terminal (backslash escapes: \\n \\t \\x03 ...), once the
                output has been quiet for 0.2 s: keys typed before libedit has put the
                terminal in raw mode would be read in cooked mode (a ^D there is lost)
  expect:TEXT   wait (at most 10 s) until TEXT appears in the output after the last match
  sleep:SECONDS wait
  eof           wait (at most 10 s) for the program to exit; appends "[exit N]" to the
                transcript (N is the exit status, or -SIGNAL)
On success prints the transcript and exits 0; if an expectation fails, prints the
transcript and the failed step on stderr and exits 1. Only the standard library is used.
"""
import codecs
import os
import pty
import select
import signal
import sys
import time


def main():
    argv = sys.argv[1:]
    split = argv.index("--")
    command, steps = argv[:split], argv[split + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        # A test runner may start us with signals blocked or ignored, and both survive exec:
        # give the program the terminal defaults a shell would.
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.execv(command[0], command)
    output = b""
    seen = 0  # expectations search after the previous match

    def pump(timeout):
        nonlocal output
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(fd, 4096)
        except OSError:  # the child has closed the terminal
            return False
        if not data:
            return False
        output += data
        return True

    def fail(step):
        sys.stdout.write(output.decode("utf-8", "replace"))
        sys.stderr.write("pty_session: step failed: %s\n" % step)
        try:
            os.kill(pid, 9)
        except OSError:
            pass
        sys.exit(1)

    for step in steps:
        kind, _, arg = step.partition(":")
        if kind == "send":
            settle = time.time() + 2
            before = len(output) + 1
            while len(output) != before and time.time() < settle:
                before = len(output)
                pump(0.2)
            os.write(fd, codecs.decode(arg, "unicode_escape").encode("utf-8"))
        elif kind == "sleep":
            end = time.time() + float(arg)
            while time.time() < end and pump(max(0.0, end - time.time())):
                pass
        elif kind == "expect":
            want = codecs.decode(arg, "unicode_escape").encode("utf-8")
            end = time.time() + 10
            while want not in output[seen:]:
                if time.time() > end or not pump(0.1):
                    fail(step)
            seen = output.index(want, seen) + len(want)
        elif kind == "eof":
            end = time.time() + 10
            while pump(0.1):
                if time.time() > end:
                    fail(step)
            _, status = os.waitpid(pid, 0)
            code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status)
            output += b"[exit %d]" % code
        else:
            fail("unknown step " + step)
    sys.stdout.write(output.decode("utf-8", "replace"))
    try:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    except OSError:
        pass


if __name__ == "__main__":
    main()
