#!/usr/bin/env python3
"""Control-plane scale benchmark (issue 9): 10,000 units on a 3-node local cluster (release
build, no broker).

Shape A: SCALE_CONNECTORS x MockSourceConnector (one task each: 2 units per connector).
  A1  REST creates by 8 concurrent clients (threads, each round-robin over the 3 nodes): /s
  A2  last create -> every unit running exactly once across the nodes' GET /cluster/worker
  A3  term changes (GET /cluster on every node every ~200 ms, from before the first create to
      the end of the idle phase); GET /cluster latency on every node over the whole run
  A4  after IDLE_SECONDS idle: units whose `starts` > 1 (stopped by the lease and restarted)
  A5  SIGKILL of a non-leader -> all units running once on the two survivors (RUNS_KILL runs;
      the node is restarted from its data dir and the cluster settles in between)
  A6  SIGKILL of all three, start all three from their data dirs -> all units running once
  A9  VmRSS per idle unit: (after - before) summed over the nodes / units
Shape B (fresh cluster): IDLE_CONNECTORS x IdleSourceConnector tasks.max=IDLE_TASKS: creates/s,
  all running, term changes, then two CPU hogs beside the cluster for HOG_SECONDS: no unit
  restarted (starts == 1), no term change; RSS per unit.
Fast path (fresh cluster): one IdleSourceConnector tasks.max=29 (30 units); SIGKILL of a
  non-leader -> its units RUNNING elsewhere per GET /connectors/fast/status (as runtime.py P1),
  RUNS_FAST runs, restarted in between.

Usage: scripts/bench/scale.sh   (builds the release binary first)
Writes target-bench/scale.json (or $OUT) and prints a Markdown table.
"""
import json, os, re, shutil, signal, socket, subprocess, sys, tempfile, threading, time, urllib.request, urllib.error
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import SCHEME, free_port, http, pct, secure_flags  # noqa: E402

BIN = os.environ["RAFTCONNECT_BIN"]
SCALE_CONNECTORS = int(os.environ.get("SCALE_CONNECTORS", "5000"))
IDLE_CONNECTORS = int(os.environ.get("IDLE_CONNECTORS", "1000"))
IDLE_TASKS = int(os.environ.get("IDLE_TASKS", "9"))
RUNS_KILL = int(os.environ.get("RUNS_KILL", "3"))
RUNS_FAST = int(os.environ.get("RUNS_FAST", "10"))
HOG_SECONDS = float(os.environ.get("HOG_SECONDS", "60"))
IDLE_SECONDS = float(os.environ.get("IDLE_SECONDS", "20"))
KEEP_WORKDIR = os.environ.get("KEEP_WORKDIR", "0") == "1"
OUT = os.environ.get("OUT", os.path.join(os.path.dirname(__file__), "..", "..", "target-bench", "scale.json"))
CLIENTS = 8
FAST_TASKS = 29
DEADLINE = 60.0          # forming, a single placement
RUN_DEADLINE = 300.0     # all units running / settled
CREATE_DEADLINE = 900.0  # the whole create phase
SAMPLE_PERIOD = 0.2      # GET /cluster sampling
MOCK = "org.apache.kafka.connect.tools.MockSourceConnector"
IDLE = "IdleSourceConnector"
LOG_MARKERS = ["exceeds the limit of", "No leader heard from within the lease"]

CLUSTERS = []  # every cluster started, for the liveness check in wait() and the cleanup
SAMPLERS = []  # every sampler started, stopped in the cleanup
HOGS = []      # the CPU hogs, killed in the cleanup whatever happens






def probe(url, timeout=5.0):
    """GET url -> (kind, body): kind is ok, refused (node down), timeout, http NNN or error."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return "ok", json.loads(r.read().decode())
    except urllib.error.HTTPError as e:
        return f"http {e.code}", None
    except urllib.error.URLError as e:
        if isinstance(e.reason, ConnectionRefusedError):
            return "refused", None
        if isinstance(e.reason, (socket.timeout, TimeoutError)):
            return "timeout", None
        return "error", None
    except (socket.timeout, TimeoutError):
        return "timeout", None
    except ConnectionRefusedError:
        return "refused", None
    except (ConnectionError, OSError, ValueError):
        return "error", None


def wait(what, f, deadline=DEADLINE, step=0.01, progress=None):
    """Poll f until it returns something truthy; SystemExit on the deadline or a dead node."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        for c in CLUSTERS:
            c.check_alive()
        v = f()
        if v:
            return v
        time.sleep(step)
    last = f"; last: {progress()}" if progress else ""
    raise SystemExit(f"scale benchmark: timed out after {deadline:.0f} s waiting for {what}{last}")




def stats(xs, nd=1):
    if not xs:
        return {"n": 0}
    return {"n": len(xs), "p50": round(pct(xs, 0.5), nd), "p99": round(pct(xs, 0.99), nd), "max": round(max(xs), nd)}


class Cluster:
    def __init__(self, root):
        os.makedirs(root, exist_ok=True)
        self.root, self.procs, self.ports = root, {}, {}
        CLUSTERS.append(self)

    def url(self, i):
        return f"{SCHEME}://127.0.0.1:{self.ports[i]}"

    def wid(self, i):
        return f"127.0.0.1:{self.ports[i]}"

    def log_path(self, i):
        return os.path.join(self.root, f"n{i}.log")

    def start(self, i, *extra):
        self.ports.setdefault(i, free_port())
        log = open(self.log_path(i), "ab")
        self.procs[i] = subprocess.Popen(
            [BIN, "node", "--id", str(i), "--data-dir", os.path.join(self.root, f"n{i}"),
             "--listen", f"127.0.0.1:{self.ports[i]}", *secure_flags(BIN, self.root), *extra],
            stdout=subprocess.DEVNULL, stderr=log, env={**os.environ, "RUST_LOG": "warn", "NO_COLOR": "1"})
        log.close()

    def kill(self, i, sig=signal.SIGKILL):
        p = self.procs.pop(i)
        p.send_signal(sig)
        p.wait(timeout=30)

    def stop_all(self):
        for i in list(self.procs):
            p = self.procs.pop(i)
            p.kill()
            p.wait()

    def check_alive(self):
        for i, p in self.procs.items():
            if p.poll() is not None:
                raise SystemExit(f"scale benchmark: node {i} ({self.root}) exited with code {p.returncode}")

    def form(self):
        self.start(1, "--bootstrap")
        wait("node 1 to lead", lambda: self.leader(1) == 1)
        for i in (2, 3):
            self.start(i, "--join", self.url(1))

        def voters():
            _, s = http("GET", self.url(1) + "/cluster")
            return s and len(s["members"]) == 3 and all(m["role"] == "voter" and m["alive"] for m in s["members"])
        wait("3 voters", voters)
        # Every node knows the leader.
        wait("every node to see the leader", lambda: all(self.leader(i) for i in (1, 2, 3)))

    def leader(self, via):
        _, s = http("GET", self.url(via) + "/cluster")
        return s and s.get("leader")

    def current_leader(self):
        """The node that itself reports being leader, newest term first (as runtime.py)."""
        best = None
        for i in self.procs:
            code, st = http("GET", self.url(i) + "/cluster")
            if code == 200 and st.get("state") == "leader" and (best is None or st["term"] > best[1]):
                best = (i, st["term"])
        return best and best[0]

    def terms(self):
        out = {}
        for i in self.procs:
            code, st = http("GET", self.url(i) + "/cluster")
            out[i] = st["term"] if code == 200 else None
        return out

    def views(self, ids):
        """node -> its GET /cluster/worker units, or None if a node did not answer."""
        out = {}
        for i in ids:
            code, w = http("GET", self.url(i) + "/cluster/worker", timeout=30)
            if code != 200:
                return None
            out[i] = w.get("units", [])
        return out

    def rss_kb(self, i):
        with open(f"/proc/{self.procs[i].pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def log_tail(self, i, n=40):
        try:
            with open(self.log_path(i), "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-n:])

    def log_summary(self):
        """Per node: WARN/ERROR line counts, the markers of trouble, and the commonest messages.
        librdkafka's lines (no broker here: its spare producer and metadata client complain)
        are counted apart."""
        out = {}
        for i in sorted(self.ports):
            try:
                with open(self.log_path(i), "rb") as f:
                    lines = f.read().decode(errors="replace").splitlines()
            except OSError:
                lines = []
            counts, msgs = {"WARN": 0, "ERROR": 0}, {}
            kafka = sum(1 for line in lines if "librdkafka" in line)
            for line in lines:
                if "librdkafka" in line:
                    continue
                for lvl in counts:
                    if f" {lvl} " in line or line.startswith(lvl):
                        counts[lvl] += 1
                        # Drop the timestamp, keep the level, target and the start of the message.
                        key = re.sub(r"\d+", "N", line[line.find(lvl):])[:160]
                        msgs[key] = msgs.get(key, 0) + 1
                        break
            top = sorted(msgs.items(), key=lambda kv: -kv[1])[:5]
            out[i] = {"lines": len(lines), "librdkafka_lines": kafka, **{k.lower(): v for k, v in counts.items()},
                      "markers": {m: sum(m in line for line in lines) for m in LOG_MARKERS},
                      "top": [{"count": n, "message": m} for m, n in top]}
        return out


class Sampler:
    """GET /cluster on every node every ~200 ms, one thread per node (a slow node delays only its
    own samples): latency, term, leader. Each sample is tagged with the phase it was taken in."""

    def __init__(self, cluster):
        self.c, self.phase, self.samples = cluster, "pre", []
        self.lock, self.stopping, self.threads = threading.Lock(), threading.Event(), []

    def start(self):
        SAMPLERS.append(self)
        for i in sorted(self.c.ports):
            t = threading.Thread(target=self._run, args=(i,), daemon=True)
            t.start()
            self.threads.append(t)

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=10)

    def _run(self, i):
        nxt = time.monotonic()
        while not self.stopping.is_set():
            if i in self.c.procs:
                phase, t0 = self.phase, time.monotonic()
                kind, st = probe(self.c.url(i) + "/cluster", timeout=5.0)
                ms = (time.monotonic() - t0) * 1000
                with self.lock:
                    self.samples.append({"t": t0, "node": i, "phase": phase, "kind": kind, "ms": ms,
                                         "term": st.get("term") if st else None,
                                         "leader": st.get("leader") if st else None})
            nxt += SAMPLE_PERIOD
            delay = nxt - time.monotonic()
            if delay > 0:
                self.stopping.wait(delay)
            else:
                nxt = time.monotonic()

    def _select(self, phases):
        with self.lock:
            return [s for s in self.samples if phases is None or s["phase"] in phases]

    def latency(self, phases=None):
        """Latency of answered requests and timeouts (a timeout counts with its full wait);
        refused connections (a node down or not listening yet) and other errors are counted."""
        ss = self._select(phases)
        timed = [s["ms"] for s in ss if s["kind"] in ("ok", "timeout")]
        kinds = {}
        for s in ss:
            kinds[s["kind"]] = kinds.get(s["kind"], 0) + 1
        return {**stats(timed), "kinds": kinds, "over_100ms": sum(1 for x in timed if x > 100)}

    def terms(self, phases):
        """The term is monotonic: last - first over the window counts every election, also one
        the sampling missed. Per node: how often its sampled term changed."""
        ss = [s for s in self._select(phases) if s["kind"] == "ok"]
        if not ss:
            return {"samples": 0}
        ts = [s["term"] for s in ss]
        per_node = {}
        for i in sorted({s["node"] for s in ss}):
            seq = [s["term"] for s in ss if s["node"] == i]
            per_node[i] = sum(1 for a, b in zip(seq, seq[1:]) if a != b)
        leaders = sorted({s["leader"] for s in ss if s["leader"] is not None})
        return {"samples": len(ss), "first": ss[0]["term"], "min": min(ts), "max": max(ts),
                "changes": max(ts) - min(ts), "per_node_changes": per_node, "leaders_seen": leaders}


class Shape:
    """The connectors of one shape and the units they make."""

    def __init__(self, names, config, tasks):
        self.names, self.config, self.tasks = names, config, tasks
        self.kind = {}
        for n in names:
            self.kind[n] = "connector"
            for t in range(tasks):
                self.kind[f"{n}-{t}"] = "task"
        self.units = len(self.kind)

    def bodies(self):
        return [{"name": n, "config": dict(self.config)} for n in self.names]


def running_once(c, ids, shape, balanced=False):
    """(runs, progress): runs is unit -> [(node, starts)] when every unit of the shape runs
    exactly once on `ids` (and, if `balanced`, connectors and tasks each spread within 1)."""
    v = c.views(ids)
    if v is None:
        return None, "a GET /cluster/worker failed"
    runs = {}
    for i, units in v.items():
        for u in units:
            if u["running"] and u["unit"] in shape.kind:
                runs.setdefault(u["unit"], []).append((i, u["starts"]))
    missing = [u for u in shape.kind if u not in runs]
    twice = [u for u, r in runs.items() if len(r) > 1]
    per_node = {i: {"connector": 0, "task": 0} for i in ids}
    for u, r in runs.items():
        for i, _ in r:
            per_node[i][shape.kind[u]] += 1
    progress = (f"{len(runs)} of {shape.units} units running, {len(missing)} missing (e.g. {missing[:3]}), "
                f"{len(twice)} on two nodes (e.g. {twice[:3]}), per node {per_node}")
    if missing or twice:
        return None, progress
    if balanced and len(ids) > 1:
        for k in ("connector", "task"):
            n = [per_node[i][k] for i in ids]
            if max(n) - min(n) > 1:
                return None, progress
    return runs, progress


def wait_running(c, ids, shape, what, balanced=False, deadline=RUN_DEADLINE, step=0.05):
    last = [""]

    def check():
        runs, last[0] = running_once(c, ids, shape, balanced)
        return runs
    return wait(what, check, deadline=deadline, step=step, progress=lambda: last[0])


def create_all(c, ids, bodies):
    """8 client threads, each creating its share (every 8th body) round-robin over the nodes.
    A failed attempt is retried (a 409 after a failed attempt counts: the first one landed)."""
    lat, retries, failures, lock = [], {}, [], threading.Lock()
    urls = [c.url(i) for i in ids]
    t0 = time.monotonic()

    def client(k):
        n = k
        try:
            for j in range(k, len(bodies), CLIENTS):
                if time.monotonic() > t0 + CREATE_DEADLINE:
                    with lock:
                        failures.append(f"client {k}: the create phase ran over {CREATE_DEADLINE:.0f} s")
                    return
                for attempt in range(10):
                    url = urls[n % len(urls)]
                    n += 1
                    r0 = time.monotonic()
                    code, _ = http("POST", url + "/connectors", bodies[j], timeout=30)
                    ms = (time.monotonic() - r0) * 1000
                    if code == 201 or (code == 409 and attempt > 0):
                        with lock:
                            lat.append(ms)
                        break
                    with lock:
                        retries[str(code)] = retries.get(str(code), 0) + 1
                    time.sleep(0.2)
                else:
                    with lock:
                        failures.append(f"{bodies[j]['name']}: 10 attempts failed (last HTTP {code})")
                    return
        except Exception as e:  # noqa: BLE001 - reported below
            with lock:
                failures.append(f"client {k}: {e!r}")

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    t1 = time.monotonic()
    if failures:
        raise SystemExit(f"scale benchmark: creating connectors failed: {failures[:5]}")
    secs = t1 - t0
    return t1, {"connectors": len(bodies), "seconds": round(secs, 3), "per_s": round(len(bodies) / secs, 1),
                "request_ms": stats(lat), "retries_by_code": retries}


def kill_hogs():
    while HOGS:
        h = HOGS.pop()
        h.kill()
        h.wait()


def rss_all(c):
    return {i: c.rss_kb(i) for i in sorted(c.procs)}


def rss_per_unit(before, after, units):
    return round(sum(after[i] - before[i] for i in before) / units, 2)


def starts_report(runs):
    restarted = {u: r for u, r in runs.items() if any(s != 1 for _, s in r)}
    return len(restarted), dict(list(restarted.items())[:5])


def load_phase(c, s, shape, label):
    """Create the shape with 8 clients, wait until all its units run, idle; returns results."""
    ids = [1, 2, 3]
    res = {"units": shape.units}
    res["rss_before_kb"] = rss_all(c)
    s.phase = "create"
    t_created, res["create"] = create_all(c, ids, shape.bodies())
    print(f"{label}: {shape.units} units: created {len(shape.names)} connectors in {res['create']['seconds']} s "
          f"({res['create']['per_s']}/s)", flush=True)
    s.phase = "converge"
    wait_running(c, ids, shape, f"{label}: all {shape.units} units running once")
    res["all_running_s"] = round(time.monotonic() - t_created, 3)
    print(f"{label}: all units running {res['all_running_s']} s after the last create", flush=True)
    res["rss_running_kb"] = rss_all(c)
    s.phase = "idle"
    time.sleep(IDLE_SECONDS)
    runs, progress = running_once(c, ids, shape)
    if runs is None:
        raise SystemExit(f"scale benchmark: {label}: not every unit runs once after idling: {progress}")
    res["after_idle"] = progress
    res["restarted_after_idle"], res["restarted_examples"] = starts_report(runs)
    res["rss_idle_kb"] = rss_all(c)
    res["rss_per_unit_kb"] = rss_per_unit(res["rss_before_kb"], res["rss_idle_kb"], shape.units)
    res["rss_per_unit_kb_at_all_running"] = rss_per_unit(res["rss_before_kb"], res["rss_running_kb"], shape.units)
    res["terms_create_to_idle"] = s.terms({"pre", "create", "converge", "idle"})
    res["latency_create_to_idle_ms"] = s.latency({"pre", "create", "converge", "idle"})
    print(f"{label}: after {IDLE_SECONDS:.0f} s idle: {res['restarted_after_idle']} units started more than once, "
          f"term changes {res['terms_create_to_idle']['changes']}, RSS/unit {res['rss_per_unit_kb']} KB", flush=True)
    return res


def shape_a(root):
    names = [f"mock-{i:05d}" for i in range(SCALE_CONNECTORS)]
    shape = Shape(names, {"connector.class": MOCK, "tasks.max": "1"}, 1)
    c = Cluster(os.path.join(root, "shape-a"))
    c.form()
    ids = [1, 2, 3]
    s = Sampler(c)
    s.start()
    time.sleep(1.0)  # samples before the first create
    res = load_phase(c, s, shape, "A")

    # A5: SIGKILL of a non-leader; its units run on the survivors.
    s.phase = "kill"
    res["kill"] = []
    wait_running(c, ids, shape, "A: the cluster to settle before the kills", balanced=True)
    for r in range(RUNS_KILL):
        leader = wait("a leader", c.current_leader)
        victim = next(i for i in ids if i != leader)
        survivors = [i for i in ids if i != victim]
        term0 = c.terms()
        t0 = time.monotonic()
        c.kill(victim)
        wait_running(c, survivors, shape, f"A kill run {r + 1}: node {victim}'s units running on {survivors}")
        dt = time.monotonic() - t0
        term1 = c.terms()
        c.start(victim)  # back from its data directory
        t1 = time.monotonic()
        wait_running(c, ids, shape, f"A kill run {r + 1}: the cluster to settle after node {victim} restarted",
                     balanced=True)
        settle = time.monotonic() - t1
        res["kill"].append({"victim": victim, "leader": leader, "moved_s": round(dt, 3), "resettled_s": round(settle, 3),
                            "terms_before": term0, "terms_after_move": term1})
        print(f"A kill run {r + 1}: node {victim} killed, its units running elsewhere after {dt:.3f} s; "
              f"settled again {settle:.1f} s after its restart", flush=True)
    res["kill_moved_s"] = stats([k["moved_s"] for k in res["kill"]], 3)

    # A6: whole-cluster cold restart.
    s.phase = "cold-restart"
    before = c.terms()
    for i in ids:
        c.kill(i)
    t0 = time.monotonic()
    for i in ids:
        c.start(i)
    wait_running(c, ids, shape, "A cold restart: all units running once", step=0.1)
    dt = time.monotonic() - t0
    after = c.terms()
    wait_running(c, ids, shape, "A cold restart: the cluster to settle", balanced=True)
    settled = time.monotonic() - t0
    res["cold_restart"] = {"all_running_s": round(dt, 3), "settled_s": round(settled, 3),
                           "term_before": max(before.values()), "term_after": max(t for t in after.values() if t),
                           "terms_before": before, "terms_after": after}
    print(f"A cold restart: all units running {dt:.3f} s after starting the nodes (balanced at {settled:.1f} s); "
          f"term {res['cold_restart']['term_before']} -> {res['cold_restart']['term_after']}", flush=True)
    s.stop()
    res["latency_whole_run_ms"] = s.latency()
    res["latency_by_phase_ms"] = {p: s.latency({p}) for p in ("pre", "create", "converge", "idle", "kill", "cold-restart")}
    res["logs"] = c.log_summary()
    c.stop_all()
    return res


def shape_b(root):
    names = [f"idle-{i:04d}" for i in range(IDLE_CONNECTORS)]
    shape = Shape(names, {"connector.class": IDLE, "tasks.max": str(IDLE_TASKS)}, IDLE_TASKS)
    c = Cluster(os.path.join(root, "shape-b"))
    c.form()
    ids = [1, 2, 3]
    s = Sampler(c)
    s.start()
    time.sleep(1.0)
    res = load_phase(c, s, shape, "B")

    # Two CPU hogs beside the cluster (2 cores: the nodes get at most a share of them).
    s.phase = "hogs"
    term0 = c.terms()
    for _ in range(2):
        HOGS.append(subprocess.Popen([sys.executable, "-c", "while True: pass"]))
    time.sleep(HOG_SECONDS)
    kill_hogs()
    runs, progress = running_once(c, ids, shape)
    if runs is None:
        raise SystemExit(f"scale benchmark: B: not every unit runs once after the CPU hogs: {progress}")
    term1 = c.terms()
    restarted, examples = starts_report(runs)
    hog_terms = s.terms({"hogs"})
    whole = s.terms({"pre", "create", "converge", "idle", "hogs"})
    res["hogs"] = {"seconds": HOG_SECONDS, "restarted": restarted, "restarted_examples": examples,
                   "terms_before": term0, "terms_after": term1, "term_changes": hog_terms.get("changes"),
                   "term_changes_whole_run": whole.get("changes"), "latency_ms": s.latency({"hogs"}),
                   "held": restarted == 0 and whole.get("changes") == 0}
    print(f"B: {HOG_SECONDS:.0f} s of two CPU hogs: {restarted} units started more than once, "
          f"term changes {hog_terms.get('changes')} (whole run {whole.get('changes')})", flush=True)
    s.stop()
    res["latency_whole_run_ms"] = s.latency()
    res["logs"] = c.log_summary()
    c.stop_all()
    return res


def fast_path(root):
    c = Cluster(os.path.join(root, "fast"))
    c.form()
    ids = [1, 2, 3]
    code, _ = http("POST", c.url(1) + "/connectors", {"name": "fast", "config": {"connector.class": IDLE,
                                                                                 "tasks.max": str(FAST_TASKS)}})
    if code != 201:
        raise SystemExit(f"scale benchmark: fast: POST /connectors answered HTTP {code}")

    def placement(via):
        """unit -> worker_id if every unit is RUNNING (REST status), else None."""
        code, s = http("GET", c.url(via) + "/connectors/fast/status")
        if code != 200 or len(s["tasks"]) != FAST_TASKS:
            return None
        units = {"fast": s["connector"], **{f"fast-{t['id']}": t for t in s["tasks"]}}
        if any(u["state"] != "RUNNING" for u in units.values()):
            return None
        return {k: v["worker_id"] for k, v in units.items()}

    def settled():
        wids = {c.wid(i) for i in ids}
        p = placement(ids[0])
        if not p or not set(p.values()) <= wids:
            return None
        load = {w: 0 for w in wids}
        for w in p.values():
            load[w] += 1
        return p if max(load.values()) - min(load.values()) <= 1 else None

    wait("fast: placement", settled, deadline=RUN_DEADLINE)
    runs = []
    for r in range(RUNS_FAST):
        leader = wait("a leader", c.current_leader)
        victim = next(i for i in ids if i != leader)
        survivors = [i for i in ids if i != victim]
        before = wait("the placement on a survivor", lambda: placement(survivors[0]))
        vw = c.wid(victim)
        mine = [u for u, w in before.items() if w == vw]
        t0 = time.monotonic()
        c.kill(victim)

        def moved():
            p = placement(survivors[0])
            return p and all(p[u] != vw for u in mine)
        wait(f"fast run {r + 1}: node {victim}'s units RUNNING elsewhere", moved, step=0.005)
        dt = (time.monotonic() - t0) * 1000
        runs.append({"victim": victim, "units": len(mine), "ms": round(dt, 1)})
        print(f"fast run {r + 1}: node {victim} ({len(mine)} units) killed, RUNNING elsewhere after {dt:.0f} ms", flush=True)
        c.start(victim)
        wait("fast: the cluster to settle", settled, deadline=RUN_DEADLINE)
    res = {"units": FAST_TASKS + 1, "runs": runs, "ms": stats([x["ms"] for x in runs])}
    res["logs"] = c.log_summary()
    c.stop_all()
    return res


def table(out):
    a, b, f = out["shape_a"], out["shape_b"], out["fast_path"]
    la = a["latency_whole_run_ms"]
    lb = b["latency_whole_run_ms"]
    ta, tb = a["terms_create_to_idle"], b["terms_create_to_idle"]
    ka, cr, hg = a["kill_moved_s"], a["cold_restart"], b["hogs"]
    rows = [
        (f"A: REST creates, {CLIENTS} clients, {a['create']['connectors']} MockSource connectors",
         f"{a['create']['per_s']:,.0f}/s ({a['create']['seconds']:.1f} s)", "≥ 1,000/s"),
        (f"A: last create → all {a['units']:,} units running once", f"{a['all_running_s']:.2f} s", "≤ 10 s"),
        ("A: term changes, before first create → end of idle",
         f"{ta['changes']} (term {ta['min']} → {ta['max']})", "0"),
        ("A: GET /cluster latency, every node, whole run (p50 / p99 / max)",
         f"{la['p50']} / {la['p99']} / {la['max']} ms (n={la['n']})", "p99 ≤ 100 ms"),
        (f"A: units with starts > 1 after {IDLE_SECONDS:.0f} s idle", f"{a['restarted_after_idle']}", "0"),
        (f"A: SIGKILL non-leader → its units running on survivors, p50 of {ka['n']}",
         f"{ka['p50']:.2f} s (max {ka['max']:.2f} s)", "≤ 1.5 s"),
        ("A: cold restart (SIGKILL all 3, start all 3) → all units running",
         f"{cr['all_running_s']:.2f} s (term {cr['term_before']} → {cr['term_after']})", "≤ 10 s"),
        (f"A: RSS per idle unit ({a['units']:,} units, after idling)", f"{a['rss_per_unit_kb']:.1f} KB", "≤ 20 KB"),
        (f"B: REST creates, {CLIENTS} clients, {b['create']['connectors']} Idle connectors × {IDLE_TASKS} tasks",
         f"{b['create']['per_s']:,.0f}/s ({b['create']['seconds']:.1f} s)", "≥ 1,000/s"),
        (f"B: last create → all {b['units']:,} units running once", f"{b['all_running_s']:.2f} s", "≤ 10 s"),
        ("B: term changes, before first create → end of idle", f"{tb['changes']} (term {tb['min']} → {tb['max']})", "0"),
        (f"B: two CPU hogs for {HOG_SECONDS:.0f} s: units restarted / term changes",
         f"{'held' if hg['held'] else 'NOT held'} ({hg['restarted']} restarted, {hg['term_changes_whole_run']} term changes)",
         "held"),
        ("B: GET /cluster latency, every node, whole run (p50 / p99 / max)",
         f"{lb['p50']} / {lb['p99']} / {lb['max']} ms (n={lb['n']})", "p99 ≤ 100 ms"),
        (f"B: RSS per idle unit ({b['units']:,} units, after idling)", f"{b['rss_per_unit_kb']:.1f} KB", "≤ 20 KB"),
        (f"Fast path: {f['units']} units, SIGKILL non-leader → RUNNING elsewhere, p50 of {f['ms']['n']}",
         f"{f['ms']['p50']:.0f} ms (max {f['ms']['max']:.0f} ms)", "≤ 300 ms"),
    ]
    lines = ["| measure | result | target |", "|---|---|---|"]
    lines += [f"| {m} | {r} | {t} |" for m, r, t in rows]
    return "\n".join(lines)


def busy_neighbours():
    """Other processes that make the figures noisy: cargo/rustc, or raftconnect nodes not ours."""
    ours = {p.pid for c in CLUSTERS for p in c.procs.values()}
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) in ours:
            continue
        try:
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm in ("cargo", "rustc", "raftconnect") or comm.startswith("it-"):
            found.append(comm)
    return sorted(set(found)), len(found)


def git_rev():
    repo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    try:
        rev = subprocess.run(["git", "-C", repo, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             timeout=10).stdout.strip() or "unknown"
        dirty = subprocess.run(["git", "-C", repo, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return rev + ("-dirty" if dirty else "")


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    root = tempfile.mkdtemp(prefix="rc-scale-")
    print(f"scale benchmark: work dir {root}", flush=True)
    ok = False
    names, n = busy_neighbours()
    if n:
        print(f"scale benchmark: warning: {n} other processes ({', '.join(names)}) run beside the benchmark "
              f"(load {loadavg()}): expect noisy figures", file=sys.stderr, flush=True)
    try:
        out = {"config": {"scale_connectors": SCALE_CONNECTORS, "idle_connectors": IDLE_CONNECTORS,
                          "idle_tasks": IDLE_TASKS, "runs_kill": RUNS_KILL, "runs_fast": RUNS_FAST,
                          "hog_seconds": HOG_SECONDS, "idle_seconds": IDLE_SECONDS, "clients": CLIENTS,
                          "cpus": os.cpu_count(), "binary": BIN,
                          "binary_mtime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(os.path.getmtime(BIN))),
                          "git_rev": git_rev(), "load_at_start": loadavg(), "neighbours_at_start": n,
                          "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}}
        out["shape_a"] = shape_a(root)
        out["shape_b"] = shape_b(root)
        out["fast_path"] = fast_path(root)
        out["config"]["load_at_end"] = loadavg()
        out["config"]["neighbours_at_end"] = busy_neighbours()[1]
        md = table(out)
        out["table"] = md
        os.makedirs(os.path.dirname(os.path.abspath(OUT)), exist_ok=True)
        with open(OUT, "w") as f:
            json.dump(out, f, indent=2)
        print()
        print(md)
        print()
        for name in ("shape_a", "shape_b", "fast_path"):
            for i, l in out[name]["logs"].items():
                print(f"{name} node {i} log: {l['warn']} WARN, {l['error']} ERROR lines (besides {l['librdkafka_lines']} "
                      f"of librdkafka's); markers {l['markers']}")
                for t in l["top"][:3]:
                    print(f"    {t['count']:5d} x {t['message'][:150]}")
        print(f"results written to {os.path.abspath(OUT)}")
        ok = True
    except BaseException:
        for c in CLUSTERS[-1:]:  # the cluster the failure happened on
            for i in sorted(c.ports):
                print(f"--- last 40 lines of {c.log_path(i)}", file=sys.stderr)
                print(c.log_tail(i), file=sys.stderr)
        raise
    finally:
        kill_hogs()
        for s in SAMPLERS:
            s.stopping.set()
        for c in CLUSTERS:
            c.stop_all()
        if ok and not KEEP_WORKDIR:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"scale benchmark: node data and logs kept in {root}", file=sys.stderr)


if __name__ == "__main__":
    main()
