"""Helpers shared by the Python benchmarks (runtime.py, scale.py): ports, JSON over HTTP(S),
percentiles, and the secured setup.

RAFTCONNECT_BENCH_SECURE=1 runs the benchmark's nodes as a secured cluster does: a cluster
secret, TLS on REST and RPC (a CA and a node certificate made with openssl) and a REST users
file; the helpers then speak HTTPS with Basic auth."""
import base64
import json
import os
import socket
import ssl
import subprocess
import urllib.error
import urllib.request

SECURE = os.environ.get("RAFTCONNECT_BENCH_SECURE") == "1"
SCHEME = "https" if SECURE else "http"
_TLS = None
_AUTH = None


def secure_flags(bin_path, root):
    """The node flags of a secured cluster, its files made once under `root`."""
    global _TLS, _AUTH
    if not SECURE:
        return []
    d = os.path.join(root, "security")
    os.makedirs(d, exist_ok=True)
    if not os.path.exists(os.path.join(d, "node.pem")):
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        run = lambda *a: subprocess.run(["openssl", *a], cwd=d, check=True, capture_output=True)  # noqa: E731
        run("req", "-x509", "-days", "2", "-subj", "/CN=bench CA", "-keyout", "ca.key", "-out", "ca.pem", *ec)
        run("req", "-subj", "/CN=127.0.0.1", "-keyout", "node.key", "-out", "node.csr", *ec)
        with open(os.path.join(d, "node.ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        run("x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
            "-extfile", "node.ext", "-out", "node.pem")
        subprocess.run([bin_path, "secret", "generate", "--out", os.path.join(d, "cluster.secret")], check=True,
                       capture_output=True)
        with open(os.path.join(d, "users.properties"), "w") as f:
            f.write("bench: bench-password\n")
    _TLS = ssl.create_default_context(cafile=os.path.join(d, "ca.pem"))
    _AUTH = "Basic " + base64.b64encode(b"bench:bench-password").decode()
    return ["--cluster-secret-file", os.path.join(d, "cluster.secret"), "--tls-cert", os.path.join(d, "node.pem"),
            "--tls-key", os.path.join(d, "node.key"), "--tls-ca", os.path.join(d, "ca.pem"),
            "--rest-users-file", os.path.join(d, "users.properties")]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def http(method, url, body=None, timeout=5.0):
    """(status, parsed JSON body or None); status 0 when the node did not answer."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if _AUTH:
        headers["Authorization"] = _AUTH
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=_TLS if url.startswith("https") else None) as r:
            text = r.read().decode()
            return r.status, (json.loads(text) if text else None)
    except urllib.error.HTTPError as e:
        return e.code, None
    except (urllib.error.URLError, ConnectionError, socket.timeout, TimeoutError):
        return 0, None


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]
