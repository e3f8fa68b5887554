#!/usr/bin/env python3
"""Coordinator/worker benchmark (issue 4): a 3-node local cluster running one sink connector
with 30 tasks, 10 runs of each measurement.

  P1  SIGKILL of a non-leader        -> all its units RUNNING elsewhere (REST status)
  P2  graceful stop (SIGTERM) of one -> all its units RUNNING elsewhere
  P3  SIGKILL of the leader          -> first accepted write (PUT /connectors/{c}/config)
  P4  a 4th node joins               -> units restarted that did not move (must be 0), and
                                        the time until the cluster is balanced again

Usage: scripts/bench/runtime.sh [RUNS]   (builds the release binary first)
Writes target-bench/runtime.json (or $OUT).
"""
import json, os, signal, socket, subprocess, sys, tempfile, time, urllib.request, urllib.error
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import SCHEME, free_port, http, pct, secure_flags  # noqa: E402

BIN = os.environ["RAFTCONNECT_BIN"]
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
TASKS = 30
OUT = os.environ.get("OUT", os.path.join(os.path.dirname(__file__), "..", "..", "target-bench", "runtime.json"))
DEADLINE = 30.0






def wait(what, f, deadline=DEADLINE, step=0.01):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        v = f()
        if v:
            return v
        time.sleep(step)
    raise SystemExit(f"benchmark: timed out waiting for {what}")


class Cluster:
    def __init__(self, root):
        self.root, self.procs, self.ports = root, {}, {}

    def url(self, i):
        return f"{SCHEME}://127.0.0.1:{self.ports[i]}"

    def start(self, i, *extra):
        self.ports.setdefault(i, free_port())
        log = open(os.path.join(self.root, f"n{i}.log"), "ab")
        self.procs[i] = subprocess.Popen(
            [BIN, "node", "--id", str(i), "--data-dir", os.path.join(self.root, f"n{i}"),
             "--listen", f"127.0.0.1:{self.ports[i]}", *secure_flags(BIN, self.root), *extra],
            stdout=subprocess.DEVNULL, stderr=log, env={**os.environ, "RUST_LOG": "warn"})

    def kill(self, i, sig=signal.SIGKILL):
        p = self.procs.pop(i)
        p.send_signal(sig)
        p.wait(timeout=30)

    def stop_all(self):
        for p in self.procs.values():
            p.kill()
            p.wait()

    def leader(self, via):
        _, s = http("GET", self.url(via) + "/cluster")
        return s and s.get("leader")

    def placement(self, via):
        """unit -> worker_id if every unit is RUNNING, else None."""
        code, s = http("GET", self.url(via) + "/connectors/load/status")
        if code != 200 or len(s["tasks"]) != TASKS:
            return None
        units = {"load": s["connector"], **{f"load-{t['id']}": t for t in s["tasks"]}}
        if any(u["state"] != "RUNNING" for u in units.values()):
            return None
        return {k: v["worker_id"] for k, v in units.items()}

    def worker_stats(self, ids):
        """The `load` connector's running units (the probe connector is reconfigured by P3)."""
        out = {}
        for i in ids:
            _, w = http("GET", self.url(i) + "/cluster/worker")
            for u in (w or {}).get("units", []):
                if u["running"] and (u["unit"] == "load" or u["unit"].startswith("load-")):
                    out[u["unit"]] = (i, u["starts"], u["epoch"])
        return out

    def settled(self, ids):
        """Every unit RUNNING on one of `ids`, the connector's tasks balanced (max - min <= 1;
        connectors are balanced apart from tasks, as Kafka Connect's assignor does)."""
        wids = {f"127.0.0.1:{self.ports[i]}" for i in ids}
        p = self.placement(ids[0])
        if not p or not set(p.values()) <= wids:
            return None
        load = {w: 0 for w in wids}
        for u, w in p.items():
            if u != "load":
                load[w] += 1
        return p if max(load.values()) - min(load.values()) <= 1 else None




def main():
    root = tempfile.mkdtemp(prefix="rc-bench-")
    c = Cluster(root)
    try:
        c.start(1, "--bootstrap")
        wait("node 1", lambda: c.leader(1) == 1)
        for i in (2, 3):
            c.start(i, "--join", c.url(1))
        wait("3 voters", lambda: (lambda s: s and len(s["members"]) == 3 and all(m["role"] == "voter" and m["alive"] for m in s["members"]))(http("GET", c.url(1) + "/cluster")[1]))
        code, _ = http("POST", c.url(1) + "/connectors", {"name": "load", "config": {
            "connector.class": "FileStreamSink", "tasks.max": str(TASKS), "topics": "t", "file": "/dev/null"}})
        assert code == 201, code
        http("POST", c.url(1) + "/connectors", {"name": "probe", "config": {
            "connector.class": "org.apache.kafka.connect.tools.MockSinkConnector", "topics": "t"}})
        ids = [1, 2, 3]
        wait("placement", lambda: c.settled(ids))
        results = {"P1_ms": [], "P2_ms": [], "P3_ms": [], "P4_restarted_unmoved": [], "P4_balanced_ms": []}

        def current_leader():
            """The node that itself reports being leader (a follower's view may lag)."""
            # A deposed leader may still say "leader" for a moment: take the newest term.
            best = None
            for i in ids:
                code, st = http("GET", c.url(i) + "/cluster")
                if code == 200 and st.get("state") == "leader" and (best is None or st["term"] > best[1]):
                    best = (i, st["term"])
            return best and best[0]

        def lose(kind):
            leader = wait("a leader", current_leader)
            victim = leader if kind == "P3" else next(i for i in ids if i != leader)
            survivors = [i for i in ids if i != victim]
            # The survivor's local view may trail the node that reported "settled" by a write.
            before = wait("the placement on a survivor", lambda: c.placement(survivors[0]))
            vw = f"127.0.0.1:{c.ports[victim]}"
            mine = [u for u, w in before.items() if w == vw]
            t0 = time.monotonic()
            if kind == "P2":
                c.procs[victim].send_signal(signal.SIGTERM)
            else:
                c.kill(victim)
            if kind == "P3":
                n = [0]
                def write():
                    n[0] += 1
                    code, _ = http("PUT", c.url(survivors[n[0] % 2]) + "/connectors/probe/config", {
                        "connector.class": "org.apache.kafka.connect.tools.MockSinkConnector", "topics": "t", "n": str(n[0])}, timeout=2)
                    return code == 200
                wait("a write after the leader crash", write, step=0.005)
            else:
                def moved():
                    p = c.placement(survivors[0])
                    return p and all(p[u] != vw for u in mine)
                wait("the victim's units running elsewhere", moved, step=0.005)
            dt = (time.monotonic() - t0) * 1000
            if kind == "P2":
                c.procs.pop(victim).wait(timeout=30)
            results[kind + "_ms"].append(round(dt, 1))
            print(f"{kind} run {len(results[kind + '_ms'])}: {dt:.0f} ms", flush=True)
            c.start(victim)  # back from its data directory
            wait("the cluster to settle", lambda: c.settled(ids))

        for kind in ("P1", "P2", "P3"):
            for _ in range(RUNS):
                lose(kind)

        # P4: a fourth node joins; count restarts of units that did not move.
        for r in range(RUNS):
            nid = 10 + r
            before = c.worker_stats(ids)
            t0 = time.monotonic()
            c.start(nid, "--join", c.url(1))
            after = wait("balance with the new node", lambda: c.settled(ids + [nid]) and c.worker_stats(ids + [nid]))
            dt = (time.monotonic() - t0) * 1000
            restarted = sum(1 for u, (n, starts, epoch) in before.items()
                            if u in after and after[u][0] == n and (after[u][1] != starts or after[u][2] != epoch))
            moved = sum(1 for u, (n, _, _) in before.items() if u in after and after[u][0] != n)
            results["P4_restarted_unmoved"].append(restarted)
            results["P4_balanced_ms"].append(round(dt, 1))
            print(f"P4 run {r + 1}: moved {moved}, restarted without moving {restarted}, balanced after {dt:.0f} ms", flush=True)
            # Remove it again so the next run starts from three nodes.
            http("DELETE", c.url(1) + f"/cluster/members/{nid}")
            c.kill(nid)
            wait("the cluster to settle on 3 nodes", lambda: c.settled(ids))

        summary = {}
        for k in ("P1_ms", "P2_ms", "P3_ms", "P4_balanced_ms"):
            summary[k] = {"p50": pct(results[k], 0.5), "p99": pct(results[k], 0.99), "max": max(results[k])}
        summary["P4_restarted_unmoved_total"] = sum(results["P4_restarted_unmoved"])
        out = {"runs": RUNS, "tasks": TASKS, "results": results, "summary": summary}
        os.makedirs(os.path.dirname(os.path.abspath(OUT)), exist_ok=True)
        with open(OUT, "w") as f:
            json.dump(out, f, indent=2)
        print(json.dumps(summary, indent=2))
    finally:
        c.stop_all()


if __name__ == "__main__":
    main()
