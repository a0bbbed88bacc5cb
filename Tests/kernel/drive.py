"""Drives `sslua kernel` through its installed kernelspec with the real jupyter_client and nbclient.

usage: python drive.py SSLUA_BINARY REPO_ROOT

Installs the kernelspec with `sslua kernel install --prefix <tmp>`, points JUPYTER_PATH there,
starts the kernel with jupyter_client's KernelManager and checks: execution and state across
cells, streams, an error then a good cell, rich display (a figure as image/svg+xml, a tensor as
text/html, sslua.display mid-cell), progress bars (\\r), completion, inspection, is_complete, an
interrupt (control message and SIGINT) of `while true do end` and of a long native kernel then a
good cell, a badly signed and an unknown message ignored, nbclient executing
examples/geometry_tour.ipynb, and shutdown. Every wait is bounded. Exits 0 when all pass.
"""
import atexit
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SSLUA, ROOT = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
tmp = tempfile.mkdtemp(prefix="sslua-kernel-")
atexit.register(shutil.rmtree, tmp, True)
subprocess.run([SSLUA, "kernel", "install", "--prefix", tmp], check=True, timeout=30,
               stdout=subprocess.DEVNULL)
os.environ["JUPYTER_PATH"] = os.path.join(tmp, "share", "jupyter")
os.environ["JUPYTER_RUNTIME_DIR"] = os.path.join(tmp, "runtime")
os.environ["SSLUA_RESULTS_DIR"] = os.path.join(tmp, "results")

import jupyter_client  # noqa: E402
import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402

failures = []


def check(cond, what):
    if cond:
        print("ok  ", what)
    else:
        print("FAIL", what)
        failures.append(what)


spec = jupyter_client.kernelspec.KernelSpecManager().get_kernel_spec("sslua")
check(os.path.realpath(spec.argv[0]) == os.path.realpath(SSLUA) and spec.argv[1:] == ["kernel", "-f", "{connection_file}"] and spec.language == "lua",
      "kernelspec argv and language: %r" % (spec.argv,))

km = jupyter_client.KernelManager(kernel_name="sslua")
km.start_kernel(cwd=ROOT)
kc = km.client()
kc.start_channels()
kc.wait_for_ready(timeout=30)


def collect(msg_id, timeout=30):
    """The iopub messages of request msg_id, up to its idle status."""
    out = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            m = kc.get_iopub_msg(timeout=max(0.05, deadline - time.time()))
        except queue.Empty:
            break
        if m["parent_header"].get("msg_id") != msg_id:
            continue
        if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
            return out
        out.append(m)
    raise TimeoutError("no idle status for %s" % msg_id)


def shell_reply(msg_id, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = kc.get_shell_msg(timeout=max(0.05, deadline - time.time()))
        if r["parent_header"].get("msg_id") == msg_id:
            return r
    raise TimeoutError("no reply to %s" % msg_id)


def run(code, timeout=30):
    mid = kc.execute(code)
    reply = shell_reply(mid, timeout)
    return reply["content"], collect(mid, timeout)


def outputs(msgs, kind):
    return [m["content"] for m in msgs if m["msg_type"] == kind]


def stdout_of(msgs):
    return "".join(c["text"] for c in outputs(msgs, "stream") if c["name"] == "stdout")


def result_text(msgs):
    r = outputs(msgs, "execute_result")
    return r[0]["data"].get("text/plain") if r else None


check(kc.session.auth is not None, "messages are signed (jupyter_client checks every signature it receives)")
info = kc.kernel_info(reply=True, timeout=10)["content"]
check(info["protocol_version"] == "5.3" and info["language_info"]["name"] == "lua", "kernel_info")

# Execution, state across cells, REPL semantics.
rep, msgs = run("x = 6 * 7")
check(rep["status"] == "ok" and outputs(msgs, "execute_result") == [], "a statement has no result")
check(any(m["msg_type"] == "execute_input" for m in msgs), "execute_input published")
rep, msgs = run("x")
check(result_text(msgs) == "42", "state kept across cells: x -> %r" % result_text(msgs))
rep, msgs = run("local a = x + 1\nprint('line', a)\nio.write('w1', 'w2', '\\n')\na * 2")
check(stdout_of(msgs) == "line\t43\nw1w2\n", "print and io.write are streams: %r" % stdout_of(msgs))
check(result_text(msgs) == "86", "a cell whose last line is an expression returns it: %r" % result_text(msgs))
check(rep["execution_count"] == 3, "execution_count counts cells: %r" % rep["execution_count"])
rep, msgs = run("{a = 1, 'x'}")
check(result_text(msgs) == '{"x", a = 1}', "tables shown by sslua.help.repr: %r" % result_text(msgs))

# An error, then a good cell.
rep, msgs = run("local t = nil\nreturn t.field")
errs = outputs(msgs, "error")
check(rep["status"] == "error" and len(errs) == 1 and "attempt to index" in errs[0]["evalue"]
      and any("stack traceback" in line for line in errs[0]["traceback"]), "an error reply with traceback")
rep, msgs = run("error('boom')")
check(rep["status"] == "error" and "boom" in rep["evalue"], "error(): %r" % rep.get("evalue"))
rep, msgs = run("x + 1")
check(rep["status"] == "ok" and result_text(msgs) == "43", "the session goes on after an error")
rep, msgs = run("x = = 1")
check(rep["status"] == "error" and "unexpected symbol" in rep["evalue"], "a syntax error is an error reply: %r" % rep.get("evalue"))

# Rich display.
rep, msgs = run("sslua.plot.spectrum{values = {4, 2, 1, 0.5}, title = 'spec'}")
data = outputs(msgs, "execute_result")[0]["data"] if outputs(msgs, "execute_result") else {}
check("<svg" in data.get("image/svg+xml", "") and "spec" in data["image/svg+xml"], "a figure is image/svg+xml")
check(data.get("text/plain", "").startswith("sslua.plot.Figure"), "a figure's text/plain is short: %r" % data.get("text/plain"))
rep, msgs = run("local v = {4, 2, 1}\nsslua.plot.spectrum{\n  values = v,\n  title = 'multi-line'\n}")
data = outputs(msgs, "execute_result")[0]["data"] if outputs(msgs, "execute_result") else {}
check("multi-line" in data.get("image/svg+xml", ""), "a last expression over several lines is the cell's value")
rep, msgs = run("sslua.tensor{{1, 2}, {3, 4.5}}")
data = outputs(msgs, "execute_result")[0]["data"] if outputs(msgs, "execute_result") else {}
html = data.get("text/html", "")
check("<table" in html and "4.5" in html and "2x2" in html, "a tensor has a text/html table")
check("4.5" in data.get("text/plain", "") and "2x2" in data.get("text/plain", ""),
      "a tensor's text/plain is its tostring: %r" % data.get("text/plain"))
rep, msgs = run("sslua.nn.Sequential(sslua.nn.Linear(3, 2), sslua.nn.ReLU())")
check("Linear" in (result_text(msgs) or "") and "parameters" in (result_text(msgs) or ""),
      "a module shows as its tree: %r" % result_text(msgs))
rep, msgs = run("print('before')\nsslua.display(sslua.tensor{7, 8})\nprint('after')")
kinds = []
for m in msgs:
    if m["msg_type"] in ("stream", "display_data"):
        if kinds and kinds[-1][0] == "stream" == m["msg_type"]:
            kinds[-1] = ("stream", kinds[-1][1] + m["content"]["text"])
        else:
            kinds.append((m["msg_type"], m["content"].get("text", "")))
check(kinds[0] == ("stream", "before\n") and kinds[1][0] == "display_data" and kinds[2] == ("stream", "after\n") and "<table" in
      outputs(msgs, "display_data")[0]["data"].get("text/html", ""), "sslua.display mid-cell, in order: %r" % kinds)
rep, msgs = run("sslua.display('v1', {id = 'd1'})\nsslua.display('v2', {id = 'd1', update = true})")
upd = outputs(msgs, "update_display_data")
check(len(upd) == 1 and upd[0]["transient"]["display_id"] == "d1" and upd[0]["data"]["text/plain"] == 'v2',
      "update_display_data with a display id")
rep, msgs = run("local p = sslua.experiment.progress(3, {label = 'ep'})\nfor i = 1, 3 do p:update(i) end\np:finish()")
check("\r" in stdout_of(msgs) and "ep done" in stdout_of(msgs), "progress bars redraw in place (\\r)")

# Completion, inspection, is_complete.
c = kc.complete("y = sslua.ze", reply=True, timeout=10)["content"]
check("sslua.zeros" in c["matches"] and c["cursor_start"] == 4 and c["cursor_end"] == 12,
      "completion of sslua.ze: %r" % (c["matches"][:5],))
run("tt = sslua.zeros(2)")
c = kc.complete("tt:nar", reply=True, timeout=10)["content"]
check("tt:narrow" in c["matches"], "completion of a tensor method: %r" % (c["matches"],))
c = kc.complete("sslua.nn.Lin", reply=True, timeout=10)["content"]
check("sslua.nn.Linear" in c["matches"], "completion in a lazy module: %r" % (c["matches"],))
r = kc.inspect("sslua.geom.fvu(a, b)", cursor_pos=12, reply=True, timeout=10)["content"]
check(r["found"] and "fvu" in r["data"]["text/plain"], "inspection shows sslua.help's text")
r = kc.inspect("tt:narrow", cursor_pos=5, reply=True, timeout=10)["content"]
check(r["found"] and "narrow" in r["data"]["text/plain"], "inspection of a tensor method")
rep, msgs = run("?sslua.geom.rank")
check("geom.rank(M" in stdout_of(msgs), "?name prints the documentation")
for code, want in [("for i = 1, 2 do", "incomplete"), ("x = 1", "complete"), ("x = = 1", "invalid")]:
    got = shell_reply(kc.is_complete(code), timeout=10)["content"]["status"]
    check(got == want, "is_complete(%r) = %s" % (code, got))


# Interrupts: a control message, then SIGINT, of a Lua loop; then of a long native kernel.
def interrupted(code, how, settle=0.5):
    mid = kc.execute(code)
    deadline = time.time() + 10
    started = False
    while time.time() < deadline and not started:
        m = kc.get_iopub_msg(timeout=10)
        started = m["parent_header"].get("msg_id") == mid and m["msg_type"] == "execute_input"
    time.sleep(settle)
    how()
    reply = shell_reply(mid, timeout=20)["content"]
    collect(mid, 10)
    return reply


def by_message():
    km.interrupt_kernel()


def by_signal():
    os.kill(km.provisioner.process.pid, signal.SIGINT)


rep = interrupted("while true do end", by_message)
check(rep["status"] == "error" and "interrupted" in rep["evalue"], "interrupt_request stops while true do end")
rep, msgs = run("x")
check(result_text(msgs) == "42", "the session goes on after an interrupt")
km.interrupt_kernel()                       # while idle: nothing to stop, the next cell runs
time.sleep(0.3)
rep, msgs = run("for i = 1, 200000 do end\nx")
check(rep["status"] == "ok" and result_text(msgs) == "42", "an interrupt while idle stops nothing later")
rep = interrupted("while true do end", by_signal)
check(rep["status"] == "error" and "interrupted" in rep["evalue"], "SIGINT stops while true do end")
rep, msgs = run("x")
check(result_text(msgs) == "42", "the session goes on after SIGINT")
run("tr, te = sslua.randn(50000, 256), sslua.randn(10000, 256); lt, le = sslua.randint(1, 10, 50000), sslua.randint(1, 10, 10000)")
rep = interrupted("acc = sslua.geom.knn_accuracy{train=tr, train_labels=lt, test=te, test_labels=le}", by_message)
check(rep["status"] == "error" and "interrupted" in rep["evalue"], "interrupt stops a long native kernel: %r" % rep.get("evalue"))
rep, msgs = run("tr, te = nil, nil; collectgarbage()\nacc == nil and x")
check(result_text(msgs) == "42", "the session goes on after a native interrupt")

# The stdin channel: io.read in a cell asks the frontend (input_request / input_reply).
def with_input(code, answers, timeout=20):
    mid = kc.execute(code, allow_stdin=True)
    asked = []
    for a in answers:
        m = kc.get_stdin_msg(timeout=timeout)
        asked.append(m)
        kc.input(a)
    reply = shell_reply(mid, timeout)["content"]
    return reply, collect(mid, timeout), asked, mid


rep, msgs, asked, mid = with_input('print("before")\nlocal s = io.read(); print("got " .. s)', ["hello"])
check(len(asked) == 1 and asked[0]["msg_type"] == "input_request" and asked[0]["parent_header"].get("msg_id") == mid
      and asked[0]["content"] == {"prompt": "", "password": False}, "io.read sends input_request with the parent header")
check(rep["status"] == "ok" and stdout_of(msgs) == "before\ngot hello\n", "io.read returns the input_reply: %r" % stdout_of(msgs))
rep, msgs, asked, mid = with_input('local a, b = io.read("n", "n")\nlocal l = io.stdin:read("L")\n'
                                   'local it = io.lines(); local m = it()\nprint(a + b, math.type(a), l, m)', ["3 4.5", "x y"])
check(rep["status"] == "ok" and stdout_of(msgs) == "7.5\tinteger\t\n\tx y\n",
      "io.read('n', 'n'), io.stdin:read('L'), io.lines(): %r" % stdout_of(msgs))
mid = kc.execute('local s = io.read(); print("got " .. tostring(s))', allow_stdin=False)
rep = shell_reply(mid, 20)["content"]
collect(mid, 10)
check(rep["status"] == "error" and "stdin is not available" in rep["evalue"],
      "with allow_stdin false io.read does not hang: %r" % rep.get("evalue"))
mid = kc.execute("local s = io.read()\nwaited = true", allow_stdin=True)
m = kc.get_stdin_msg(timeout=20)
km.interrupt_kernel()
rep = shell_reply(mid, 20)["content"]
collect(mid, 10)
check(m["msg_type"] == "input_request" and rep["status"] == "error" and "interrupted" in rep["evalue"],
      "an interrupt while waiting for input stops the cell: %r" % rep.get("evalue"))
rep, msgs = run("x")
check(result_text(msgs) == "42", "the session goes on after an interrupted input")
rep, msgs, asked, mid = with_input('print("again " .. io.read())', ["there"])
check(stdout_of(msgs) == "again there\n", "input works after an interrupted input: %r" % stdout_of(msgs))

# A badly signed message, a malformed one and an unknown type are dropped; the kernel lives on.
session = kc.session
msg = session.msg("execute_request", {"code": "bad_signature_ran = true", "silent": False, "store_history": True,
                                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
frames = session.serialize(msg)
i = frames.index(b"<IDS|MSG>")
frames[i + 1] = b"0" * 64
kc.shell_channel.socket.send_multipart(frames)
kc.shell_channel.socket.send_multipart([b"<IDS|MSG>", b"nonsense"])
kc.shell_channel.socket.send_multipart(frames[:i + 1] + [b""] + [b"{"] * 4)
parts = [b"{", b"{}", b"{}", b"{}"]
kc.shell_channel.socket.send_multipart([b"<IDS|MSG>", session.sign(parts)] + parts)   # signed, not JSON
session.send(kc.shell_channel.socket, session.msg("no_such_request", {}))
# A client that sends a request and vanishes before the reply.
import zmq  # noqa: E402
ghost = zmq.Context.instance().socket(zmq.DEALER)
ghost.connect("%s://%s:%d" % (km.transport, km.ip, km.shell_port))
session.send(ghost, session.msg("execute_request", {"code": "ghost_ran = 'yes'", "silent": False,
                                                      "store_history": False, "user_expressions": {},
                                                      "allow_stdin": False}))
time.sleep(0.3)
ghost.close(linger=0)
time.sleep(0.5)
rep, msgs = run("ghost_ran")
check(result_text(msgs) == "yes", "a client that vanishes: its request ran and the kernel lives on")
rep, msgs = run("bad_signature_ran")
check(result_text(msgs) == "nil", "a badly signed execute_request is ignored: %r" % result_text(msgs))
check(km.is_alive(), "the kernel survives malformed and unknown messages")

kc.stop_channels()
km.shutdown_kernel(now=False)
check(not km.is_alive(), "shutdown_request ends the kernel")

# `sslua kernel install --user` writes into ~/.local/share/jupyter; `--sandbox` sandboxes the kernel.
home = os.path.join(tmp, "home")
env = dict(os.environ, HOME=home)
env.pop("XDG_DATA_HOME", None)
subprocess.run([SSLUA, "kernel", "install", "--user"], check=True, timeout=30, env=env, stdout=subprocess.DEVNULL)
check(os.path.exists(os.path.join(home, ".local/share/jupyter/kernels/sslua/kernel.json")), "install --user")
sandboxed = os.path.join(tmp, "sandboxed")
subprocess.run([SSLUA, "kernel", "install", "--prefix", sandboxed, "--sandbox"], check=True, timeout=30,
               stdout=subprocess.DEVNULL)
os.environ["JUPYTER_PATH"] = os.path.join(sandboxed, "share", "jupyter")
km = jupyter_client.KernelManager(kernel_name="sslua")
km.start_kernel(cwd=ROOT)
kc = km.client()
kc.start_channels()
kc.wait_for_ready(timeout=30)
rep, msgs = run("os.execute('true')")
check(rep["status"] == "error" and "disabled by --sandbox" in rep["evalue"], "kernel --sandbox: %r" % rep.get("evalue"))
rep, msgs = run("1 + 1")
check(result_text(msgs) == "2", "a sandboxed kernel runs cells")
kc.stop_channels()
km.shutdown_kernel(now=False)
os.environ["JUPYTER_PATH"] = os.path.join(tmp, "share", "jupyter")

# nbclient executes the example notebook.
nb = nbformat.read(os.path.join(ROOT, "examples", "geometry_tour.ipynb"), as_version=4)
NotebookClient(nb, kernel_name="sslua", timeout=60, resources={"metadata": {"path": ROOT}}).execute()
outs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
check(not any(o.output_type == "error" for o in outs), "the notebook runs without errors")
check(any(o.output_type in ("execute_result", "display_data") and "image/svg+xml" in o.get("data", {}) for o in outs),
      "the notebook shows a figure")
check(any(o.output_type == "execute_result" and "text/html" in o.get("data", {}) for o in outs),
      "the notebook shows a tensor")

print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
