#!/usr/bin/env python3
"""Open a page in headless Chromium, wait until a JavaScript condition holds
in it, and print the value of a JavaScript expression (a string).

    browser-eval.py BROWSER URL UNTIL EXPR TIMEOUT

Talks to the browser over the DevTools protocol on a pipe
(--remote-debugging-pipe: the browser reads commands on fd 3 and writes
answers on fd 4, each a JSON text ended by a NUL byte), so the page runs in
real time, websockets and all. Exits 0 when UNTIL became true, 1 when
TIMEOUT seconds passed first (EXPR is printed either way), 2 on a failure;
the browser and its helpers are killed on the way out. With
BROWSER_EVAL_SCREENSHOT=file.png set it also saves a screenshot of the page.
"""
import base64
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time


class Browser:
    def __init__(self, path, deadline):
        self.deadline = deadline
        self.next_id = 0
        self.buffer = b""
        # the profile and the browser's own temporary files (its singleton
        # socket, shared memory files) in one directory, removed at the end
        self.home = tempfile.mkdtemp(prefix="rzmq-browser-")
        self.profile = os.path.join(self.home, "profile")
        tmp = os.path.join(self.home, "tmp")
        os.mkdir(self.profile)
        os.mkdir(tmp)
        child_in, self.to_browser = os.pipe()
        self.from_browser, child_out = os.pipe()
        # the browser's ends move above 9, clear of the fds 3 and 4 they go to
        child_in, child_out = (above_nine(fd) for fd in (child_in, child_out))
        env = dict(os.environ)
        # a sanitizer preloaded for the tests is not for the browser
        for name in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS"):
            env.pop(name, None)
        env["TMPDIR"] = tmp
        # the shell puts the browser's ends of the pipes on fds 3 and 4
        script = 'exec "$@" 3<&%d 4>&%d %d<&- %d>&-' % (
            child_in, child_out, child_in, child_out)
        self.proc = subprocess.Popen(
            ["/bin/bash", "-c", script, "bash", path, "--headless", "--no-sandbox",
             "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
             "--no-default-browser-check", "--remote-debugging-pipe",
             "--user-data-dir=" + self.profile, "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=None if os.environ.get("BROWSER_EVAL_DEBUG") else subprocess.DEVNULL, env=env, pass_fds=(child_in, child_out),
            start_new_session=True)
        os.close(child_in)
        os.close(child_out)

    def call(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session is not None:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            n = os.write(self.to_browser, data)
            data = data[n:]
        while True:
            answer = self.read()
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise RuntimeError("%s: %s" % (method, answer["error"]))
                return answer.get("result", {})

    def read(self):
        while b"\0" not in self.buffer:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from the browser in time")
            ready, _, _ = select.select([self.from_browser], [], [], left)
            if ready:
                chunk = os.read(self.from_browser, 65536)
                if not chunk:
                    raise RuntimeError("the browser closed its pipe")
                self.buffer += chunk
        text, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(text)

    def close(self):
        # ask first, so that the browser tidies up; then kill what is left
        try:
            self.deadline = time.monotonic() + 5
            self.call("Browser.close")
            self.proc.wait(5)
        except Exception:
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        # wait for the whole group (renderers, zygotes), for at most 10 s
        gone_by = time.monotonic() + 10
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        while time.monotonic() < gone_by:
            try:
                os.killpg(self.proc.pid, 0)
            except (ProcessLookupError, PermissionError):
                break
            time.sleep(0.05)
        for fd in (self.to_browser, self.from_browser):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.home, ignore_errors=True)


def above_nine(fd):
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return moved


def evaluate(browser, session, expr):
    try:
        result = browser.call("Runtime.evaluate",
                              {"expression": expr, "returnByValue": True},
                              session)
    except RuntimeError:  # no page to evaluate in yet, while it loads
        return None
    if "exceptionDetails" in result:
        return None
    return result.get("result", {}).get("value")


def main():
    path, url, until, expr, timeout = sys.argv[1:6]
    deadline = time.monotonic() + float(timeout)
    browser = Browser(path, deadline + 5)
    status = 1
    try:
        target = browser.call("Target.createTarget", {"url": url})["targetId"]
        session = browser.call("Target.attachToTarget",
                               {"targetId": target, "flatten": True})["sessionId"]
        while time.monotonic() < deadline:
            if evaluate(browser, session, "Boolean(%s)" % until) is True:
                status = 0
                break
            time.sleep(0.2)
        value = evaluate(browser, session, expr)
        shot = os.environ.get("BROWSER_EVAL_SCREENSHOT")
        if shot:  # for a person to look at: a PNG of the page as it is
            png = browser.call("Page.captureScreenshot", {}, session)["data"]
            with open(shot, "wb") as f:
                f.write(base64.b64decode(png))
        print("" if value is None else value)
    except Exception as e:  # reported to the test, which fails on status 2
        print("browser-eval: %s" % e, file=sys.stderr)
        status = 2
    finally:
        browser.close()
    sys.exit(status)


if __name__ == "__main__":
    main()
