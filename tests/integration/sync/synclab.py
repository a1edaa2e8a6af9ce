# SPDX-License-Identifier: BSD-3-Clause
"""What the `ringfence sync` tests and the demo share: a test CA made with
`openssl` at run time, real HTTPS servers on loopback (Python's http.server
and ssl), a server that accepts and never answers, and minisign keys and
signatures made with OpenSSL (Ed25519 over BLAKE2b-512, minisign's "ED"
format), so that no test depends on the minisign tool.
"""

import base64
import hashlib
import http.server
import os
import socket
import ssl
import subprocess
import threading
import time


def sh(*cmd, **kw):
    return subprocess.run(list(cmd), check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


# ---------------------------------------------------------------------------
# Certificates


def make_ca(d, name):
    key, crt = os.path.join(d, name + ".key"), os.path.join(d, name + ".pem")
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", key, "-out", crt, "-days", "2", "-subj", "/CN=ringfence test CA " + name)
    return key, crt


def make_server_cert(d, name, ca_key, ca_crt):
    key, csr, crt = (os.path.join(d, name + s) for s in (".key", ".csr", ".pem"))
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
       "-out", csr, "-subj", "/CN=127.0.0.1")
    sh("openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial", "-out", crt,
       "-days", "2", "-extfile", ext)
    return key, crt


# ---------------------------------------------------------------------------
# HTTPS servers


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY, as nginx's default: a short answer (a 304) must not wait
    # for the client's delayed ACK of the TLS session tickets (Nagle).
    disable_nagle_algorithm = True

    def log_message(self, fmt, *a):
        self.server.log.append(fmt % a)

    def do_GET(self):
        srv = self.server
        path = self.path.split("?")[0]
        srv.requests.append((path, dict(self.headers)))
        special = srv.special.get(path)
        if special == "endless":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            chunk = b"198.51.100.7\n" * 5000
            try:
                for _ in range(100000):  # bounded: ~6.5 GB at most, stops when the client goes
                    self.wfile.write(chunk)
            except OSError:
                pass
            self.close_connection = True
            return
        if isinstance(special, int):
            body = b"error\n"
            self.send_response(special)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if isinstance(special, tuple) and special[0] == "redirect":
            self.send_response(302)
            self.send_header("Location", special[1])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        f = os.path.join(srv.root, path.lstrip("/"))
        if ".." in path or not os.path.isfile(f):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with open(f, "rb") as fh:
            body = fh.read()
        etag = '"%s"' % hashlib.sha256(body).hexdigest()[:16]
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", "Thu, 03 Dec 2026 10:00:00 GMT")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class HttpsServer:
    """Serves `root` over HTTPS on 127.0.0.1; `special` maps a path to
    "endless", an HTTP status (int) or ("redirect", URL)."""

    def __init__(self, root, key, crt, special=None):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        # A client that hangs up on purpose (the byte cap) is no error here.
        self.httpd.handle_error = lambda request, address: None
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.httpd.root = root
        self.httpd.special = special or {}
        self.httpd.requests = []
        self.httpd.log = []
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path=""):
        return "https://127.0.0.1:%d/%s" % (self.port, path)

    @property
    def requests(self):
        return self.httpd.requests

    def close(self):
        self.httpd.shutdown()


class SilentServer:
    """Accepts TCP connections and never sends or reads a byte."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.held = []
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(c)

    def url(self, path=""):
        return "https://127.0.0.1:%d/%s" % (self.port, path)


# ---------------------------------------------------------------------------
# minisign with OpenSSL


class MinisignKey:
    """An Ed25519 key made by `openssl genpkey`, used in minisign's formats."""

    def __init__(self, d, name):
        self.pem = os.path.join(d, name + ".sec.pem")
        sh("openssl", "genpkey", "-algorithm", "ed25519", "-out", self.pem)
        der = sh("openssl", "pkey", "-in", self.pem, "-pubout", "-outform", "DER").stdout
        self.pk = der[-32:]
        self.key_id = os.urandom(8)
        self.dir = d

    def public_line(self):
        return base64.b64encode(b"Ed" + self.key_id + self.pk).decode()

    def public_file(self):
        return "untrusted comment: minisign public key %s\n%s\n" % (self.key_id[::-1].hex().upper(),
                                                                     self.public_line())

    def _sign(self, message):
        m = os.path.join(self.dir, "msg.bin")
        s = os.path.join(self.dir, "sig.bin")
        with open(m, "wb") as f:
            f.write(message)
        sh("openssl", "pkeyutl", "-sign", "-inkey", self.pem, "-rawin", "-in", m, "-out", s)
        with open(s, "rb") as f:
            return f.read()

    def sign(self, data, trusted="timestamp:%d\tfile:MANIFEST\thashed" % int(time.time())):
        sig = self._sign(hashlib.blake2b(data, digest_size=64).digest())
        glob = self._sign(sig + trusted.encode())
        return ("untrusted comment: signature from ringfence test key\n%s\ntrusted comment: %s\n%s\n" %
                (base64.b64encode(b"ED" + self.key_id + sig).decode(), trusted, base64.b64encode(glob).decode()))


def manifest(serial, files, scope="*", issued=None, expires=None):
    """files: {name: bytes}. Returns the MANIFEST text."""
    now = int(time.time())
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    issued = now - 60 if issued is None else issued
    expires = now + 86400 if expires is None else expires
    out = ["ringfence-bundle 1", "serial %d" % serial,
           "issued " + time.strftime(fmt, time.gmtime(issued)),
           "expires " + time.strftime(fmt, time.gmtime(expires)), "scope " + scope]
    for name in sorted(files):
        out.append("file %s %s" % (name, hashlib.sha256(files[name]).hexdigest()))
    return "\n".join(out) + "\n"


def publish(www, files, man_text, sig_text):
    """Writes a bundle into the served directory www/bundle/."""
    d = os.path.join(www, "bundle")
    for name, data in files.items():
        p = os.path.join(d, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    with open(os.path.join(d, "MANIFEST"), "w") as f:
        f.write(man_text)
    with open(os.path.join(d, "MANIFEST.minisig"), "w") as f:
        f.write(sig_text)
