#!/usr/bin/env python3
"""Helper of scripts/bench/dataplane.sh: the parts that need precise timing or JSON.

    dataplane.py hw BOOTSTRAP TOPIC PARTITIONS             sum of the high watermarks (and per partition)
    dataplane.py timed OUTFILE PROBE -- CMD ARGS...        run CMD (stdout to OUTFILE); print its wall seconds
        and when its output first appeared and reached 99 % (PROBE "file:BYTES": OUTFILE's size,
        or "hw:HOST:PORT:TOPIC:PARTITIONS:N": the topic's high watermarks)
    dataplane.py source-run URL BODY BOOTSTRAP TOPIC PARTITIONS N TIMEOUT PID
        POST BODY (a connector) to URL/connectors; from the moment the call returns, poll the
        topic's high watermarks until their sum reaches N; print a JSON result
    dataplane.py sink-run URL BODY FILE BYTES TIMEOUT PID
        the same for a sink: poll FILE's size until it reaches BYTES
    dataplane.py create-many URL BODIES_JSONL              create connectors, one body per line
    dataplane.py wait-running URL UNITS TIMEOUT PID        wait until the cluster runs UNITS units, all RUNNING
    dataplane.py wait-idle URL TIMEOUT                     wait until no connector exists and the node runs no unit
    dataplane.py rss PID                                   VmRSS in KiB and the number of threads
    dataplane.py summary RESULTS_JSONL N RECORD_BYTES TXT JSON   print and write the report

High watermarks are read with ListOffsets v1 (latest) over one persistent TCP connection, so
polling every few milliseconds costs the broker and the 2 cores next to nothing; dataplane.sh
checks the result against `kcat -Q` before it relies on it.

Exit codes: 0 ok, 1 error, 3 the raftconnect side did not finish (timeout or stall; details on
stderr).
"""

import json
import os
import socket
import statistics
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request

POLL_FILE_S = 0.005
POLL_HW_S = 0.01
STALL_S = float(os.environ.get("STALL_TIMEOUT", "30"))


def die(msg, code=1):
    print("error: " + msg, file=sys.stderr)
    sys.exit(code)


# --- Kafka: ListOffsets v1 ------------------------------------------------------------------


class Watermarks:
    """High watermarks of one topic's partitions, from the (single) broker at BOOTSTRAP."""

    def __init__(self, bootstrap, topic, partitions):
        host, port = bootstrap.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=5)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.topic, self.partitions, self.corr = topic, partitions, 0

    def _recv(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("broker closed the connection")
            buf += chunk
        return buf

    def get(self):
        """Per-partition high watermarks (list); raises on any error code."""
        self.corr += 1
        client = b"raftconnect-bench"
        t = self.topic.encode()
        body = struct.pack(">hhih", 2, 1, self.corr, len(client)) + client  # ListOffsets v1 header
        body += struct.pack(">ii", -1, 1) + struct.pack(">h", len(t)) + t + struct.pack(">i", self.partitions)
        for p in range(self.partitions):
            body += struct.pack(">iq", p, -1)  # timestamp -1: latest
        self.sock.sendall(struct.pack(">i", len(body)) + body)
        size = struct.unpack(">i", self._recv(4))[0]
        data = self._recv(size)
        corr, ntopics = struct.unpack_from(">ii", data, 0)
        if corr != self.corr:
            raise ValueError("correlation id %d, expected %d" % (corr, self.corr))
        pos, out = 8, {}
        for _ in range(ntopics):
            (tlen,) = struct.unpack_from(">h", data, pos)
            pos += 2 + tlen
            (nparts,) = struct.unpack_from(">i", data, pos)
            pos += 4
            for _ in range(nparts):
                part, err, _ts, off = struct.unpack_from(">ihqq", data, pos)
                pos += 22
                if err:
                    raise ValueError("ListOffsets %s[%d]: error code %d" % (self.topic, part, err))
                out[part] = off
        if sorted(out) != list(range(self.partitions)):
            raise ValueError("ListOffsets answered partitions %s" % sorted(out))
        return [out[p] for p in range(self.partitions)]


# --- REST -----------------------------------------------------------------------------------


def http(method, url, body=None, timeout=30):
    data = None if body is None else (body if isinstance(body, bytes) else body.encode())
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            return resp.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")


def create(url, body):
    code, resp = http("POST", url + "/connectors", body)
    if code != 201:
        die("POST %s/connectors -> HTTP %s: %s" % (url, code, resp))
    return json.loads(body)["name"]


def status_text(url, name):
    try:
        code, resp = http("GET", "%s/connectors/%s/status" % (url, name), timeout=5)
        return "GET /connectors/%s/status -> %s %s" % (name, code, json.dumps(resp))
    except Exception as e:  # noqa: BLE001 - diagnostics only
        return "GET /connectors/%s/status failed: %s" % (name, e)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is dead for our purposes.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


class Marks:
    """When a growing quantity first became > 0 and first reached 99 % of its target."""

    def __init__(self, target):
        self.target, self.t0, self.first, self.p99 = target, time.monotonic(), None, None

    def see(self, val):
        now = time.monotonic() - self.t0
        if self.first is None and val > 0:
            self.first = now
        if self.p99 is None and val * 100 >= self.target * 99:
            self.p99 = now
        return now

    def result(self, seconds, **extra):
        return json.dumps(dict({"seconds": seconds, "first_s": self.first, "p99_s": self.p99}, **extra))


def wait_progress(what, probe, target, timeout, pid, url, name, interval):
    """Poll probe() until it returns >= target. Returns the Marks and the seconds taken."""
    marks = Marks(target)
    last_val, last_change, last_report = 0, 0.0, 0.0
    while True:
        val = probe()
        now = marks.see(val)
        if val != last_val:
            last_val, last_change = val, now
        if val >= target:
            return marks, now
        if not alive(pid):
            print(status_text(url, name), file=sys.stderr)
            die("the node (pid %d) exited while waiting for %s (%d of %d)" % (pid, what, val, target), 3)
        if now > timeout or now - last_change > STALL_S:
            why = "timed out after %.0f s" % timeout if now > timeout else "no progress for %.0f s" % STALL_S
            print(status_text(url, name), file=sys.stderr)
            die("%s: %s at %d of %d" % (name, why, val, target), 3)
        if now - last_report > 5:
            print("    ... %s: %d of %d after %.1f s" % (what, val, target, now), file=sys.stderr)
            last_report = now
        time.sleep(interval)


def cmd_source_run(url, body, bootstrap, topic, partitions, n, timeout, pid):
    wm = Watermarks(bootstrap, topic, int(partitions))
    before = sum(wm.get())
    if before:
        die("topic %s is not empty (%d records)" % (topic, before))
    name = create(url, body)
    marks, done = wait_progress(
        "records in " + topic, lambda: sum(wm.get()), int(n), float(timeout), int(pid), url, name, POLL_HW_S
    )
    # Anything beyond N (duplicates) shows up shortly after; look once more.
    time.sleep(0.2)
    final = wm.get()
    print(marks.result(done, records=sum(final), per_partition=final))


def file_size(path):
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


def cmd_sink_run(url, body, path, nbytes, timeout, pid):
    name = create(url, body)
    marks, done = wait_progress(
        "bytes in " + os.path.basename(path), lambda: file_size(path), int(nbytes), float(timeout), int(pid), url,
        name, POLL_FILE_S
    )
    time.sleep(0.2)
    print(marks.result(done, bytes=file_size(path)))


def cmd_timed(outfile, probe, cmd):
    """Run cmd with stdout to outfile; wall time from launch to exit, and when its output first
    showed up and reached 99 %: PROBE "file:BYTES" watches outfile, "hw:HOST:PORT:TOPIC:PARTITIONS:N"
    a topic's high watermarks."""
    kind, rest = probe.split(":", 1)
    if kind == "hw":
        host, port, topic, parts, target = rest.split(":")
        wm = Watermarks(host + ":" + port, topic, int(parts))
        check, interval = (lambda: sum(wm.get())), POLL_HW_S
    else:
        target = rest
        check, interval = (lambda: file_size(outfile)), POLL_FILE_S
    with open(outfile, "wb") as out:
        marks = Marks(int(target))
        proc = subprocess.Popen(cmd, stdout=out)
        while proc.poll() is None:
            if marks.p99 is None:
                marks.see(check())
            time.sleep(interval)
        seconds = time.monotonic() - marks.t0
    if proc.returncode != 0:
        die("%s exited with %d" % (cmd[0], proc.returncode))
    if marks.p99 is None:
        marks.see(check())
    print(marks.result(seconds))


def cmd_create_many(url, path):
    with open(path) as f:
        bodies = [line for line in f if line.strip()]
    for body in bodies:
        create(url, body)
    print(len(bodies))


def cmd_wait_running(url, units, timeout, pid):
    """Wait until GET /connectors?expand=status shows `units` units (connectors + tasks), all RUNNING."""
    units, deadline, last = int(units), time.monotonic() + float(timeout), "no answer"
    while time.monotonic() < deadline:
        if not alive(int(pid)):
            die("the node (pid %s) exited; last check: %s" % (pid, last), 3)
        try:
            code, resp = http("GET", url + "/connectors?expand=status", timeout=5)
        except Exception as e:  # noqa: BLE001
            code, resp = None, str(e)
        if code == 200:
            states = []
            for c in resp.values():
                st = c["status"]
                states.append(st["connector"]["state"])
                states.extend(t["state"] for t in st.get("tasks", []))
            counts = {s: states.count(s) for s in set(states)}
            last = "%d units %s" % (len(states), counts)
            if len(states) == units and counts.get("RUNNING") == units:
                print(last)
                return
            if counts.get("FAILED"):
                failed = [
                    (n, c["status"]) for n, c in resp.items()
                    if c["status"]["connector"]["state"] == "FAILED"
                    or any(t["state"] == "FAILED" for t in c["status"].get("tasks", []))
                ]
                die("units FAILED: %s" % json.dumps(failed[:3])[:2000], 3)
        else:
            last = "HTTP %s %s" % (code, resp)
        time.sleep(0.1)
    die("not all %d units RUNNING within %s s; last check: %s" % (units, timeout, last), 3)


def cmd_wait_idle(url, timeout):
    deadline, last = time.monotonic() + float(timeout), "no answer"
    while time.monotonic() < deadline:
        try:
            c1, names = http("GET", url + "/connectors", timeout=5)
            c2, worker = http("GET", url + "/cluster/worker", timeout=5)
            # The worker lists the units it runs or ran; stopped ones have "running": false.
            running = [u for u in worker["units"] if u.get("running")]
            last = "connectors=%s running units=%s" % (names, json.dumps(running)[:300])
            if c1 == 200 and c2 == 200 and not names and not running:
                return
        except Exception as e:  # noqa: BLE001
            last = str(e)
        time.sleep(0.05)
    die("the node did not become idle within %s s; last check: %s" % (timeout, last))


def cmd_rss(pid):
    fields = {}
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.split()
    if "VmRSS" not in fields:
        die("no VmRSS for pid %s" % pid)
    print(fields["VmRSS"][0], fields["Threads"][0])


# --- report ---------------------------------------------------------------------------------


def sink_tasks(keys):
    return [k[len("rc_sink"):] for k in keys if k.startswith("rc_sink")]


def cmd_summary(results, n, record_bytes, txt, out_json):
    n, record_bytes = int(n), int(record_bytes)
    rows = [json.loads(line) for line in open(results) if line.strip()]
    meta = next((r for r in rows if r["kind"] == "meta"), {})
    timed = [r for r in rows if "seconds" in r]
    keys = []
    for r in timed:
        if r["key"] not in keys:
            keys.append(r["key"])
    med = {}
    lines = []
    w = lines.append
    w("raftconnect data plane vs kcat: %d records of %d B, one %s broker (memory://), topics of 4 partitions"
      % (n, record_bytes, meta.get("nisshi", "nisshi")))
    w("raftconnect: %s" % meta.get("cluster", ""))
    w("kcat: %s" % meta.get("kcat", ""))
    w("git %s, %s CPUs, %s, load average at start %s, at end %s" % (
        meta.get("git_rev", "?"), os.cpu_count(), meta.get("timestamp", ""), meta.get("load", "?"),
        " ".join(open("/proc/loadavg").read().split()[:3])))
    w("")
    w("%-40s %-26s %8s %12s %9s %9s %14s" % ("measurement", "runs (s)", "median s", "median msg/s",
                                            "1st rec s", "99% s", "msg/s 1st-99%"))
    for k in keys:
        rs = [r for r in timed if r["key"] == k]
        secs = [r["seconds"] for r in rs]
        m = statistics.median(secs)
        med[k] = m

        def mid(field):
            vals = [r[field] for r in rs if r.get(field) is not None]
            return "%.3f" % statistics.median(vals) if vals else "-"

        rates = [0.99 * n / (r["p99_s"] - r["first_s"]) for r in rs
                 if r.get("first_s") is not None and r.get("p99_s") and r["p99_s"] > r["first_s"]]
        w("%-40s %-26s %8.3f %12s %9s %9s %14s" % (
            rs[0]["label"], ", ".join("%.3f" % s for s in secs), m, "{:,.0f}".format(n / m), mid("first_s"),
            mid("p99_s"), "{:,.0f}".format(statistics.median(rates)) if rates else "-"))
    w("(1st rec / 99%: when the first record / 99 % of them had reached the topic (high watermarks, polled every")
    w(" 10 ms) or the output file (size, every 5 ms), medians; msg/s 1st-99%: the rate in between, median.")
    w(" The rest of a run: kcat -C waits for end-of-partition, a raftconnect sink for its last write. Plain kcat -C")
    w(" stalls for fetch.queue.backoff.ms = 1 s now and then when its fetch queue is full: runs of ~2 s and ~3 s.)")
    w("")
    ratios = {}
    pairs = [("produce", "rc_source", "kcat_produce")]
    for base, what in [("kcat_consume", "kcat -C"), ("kcat_consume_tuned", "kcat -C, fetch backoff 10ms")]:
        pairs += [("consume x%s vs %s" % (k, what), "rc_sink%s" % k, base) for k in sink_tasks(keys)]
    for label, rc, kc in pairs:
        if rc in med and kc in med:
            ratios[label] = med[kc] / med[rc]
            w("throughput ratio raftconnect/kcat, %-42s %.2f  (target >= 0.9: %s)" % (
                label + ":", ratios[label], "met" if ratios[label] >= 0.9 else "NOT met"))
    if "rc_source" in med and "kcat_produce_idem" in med:
        r = med["kcat_produce_idem"] / med["rc_source"]
        ratios["produce vs idempotent kcat"] = r
        w("  for reference, produce vs kcat with enable.idempotence=true (as raftconnect's producer): %.2f" % r)
    rss = [r for r in rows if r["kind"] == "rss"]
    if rss:
        w("")
        w("node RSS (VmRSS of a fresh 1-node cluster's node, after all units RUNNING + %s s settle):" % meta.get("settle", "?"))
        for r in rss:
            extra = ""
            if r.get("units"):
                extra = "  (+%.1f MiB over idle, %.0f KiB per task)" % ((r["kib"] - r["idle_kib"]) / 1024,
                                                                       (r["kib"] - r["idle_kib"]) / r["tasks"])
            w("  %-72s %7.1f MiB %4s threads%s" % (r["label"], r["kib"] / 1024, r.get("threads", "?"), extra))
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    with open(txt, "w") as f:
        f.write(text)
    with open(out_json, "w") as f:
        json.dump({"benchmark": "dataplane", "records": n, "record_bytes": record_bytes, "meta": meta,
                   "medians_s": med, "msg_per_s": {k: n / v for k, v in med.items()}, "ratios": ratios,
                   "rows": [r for r in rows if r["kind"] != "meta"]}, f, indent=2)
        f.write("\n")


def main(argv):
    if len(argv) < 2:
        die(__doc__.strip())
    cmd, args = argv[1], argv[2:]
    if cmd == "hw":
        hws = Watermarks(args[0], args[1], int(args[2])).get()
        print(sum(hws), " ".join(map(str, hws)))
    elif cmd == "timed":
        if len(args) < 4 or args[2] != "--":
            die("usage: timed OUTFILE PROBE -- CMD ARGS...")
        cmd_timed(args[0], args[1], args[3:])
    elif cmd == "source-run":
        cmd_source_run(*args)
    elif cmd == "sink-run":
        cmd_sink_run(*args)
    elif cmd == "create-many":
        cmd_create_many(*args)
    elif cmd == "wait-running":
        cmd_wait_running(*args)
    elif cmd == "wait-idle":
        cmd_wait_idle(*args)
    elif cmd == "rss":
        cmd_rss(*args)
    elif cmd == "summary":
        cmd_summary(*args)
    else:
        die("unknown command %s" % cmd)


if __name__ == "__main__":
    main(sys.argv)
