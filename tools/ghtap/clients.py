#!/usr/bin/env python3
"""Linux-side HTTP clients for GigaHttpd's wire test (tools/ghtap/test.sh).

Talks to ghtap through the Linux TCP stack and checks every response byte for byte
against what GigaHttpd's built-in site must send. Only the Date and ETag values are
taken from the response, after being checked on their own (format, clock, stability).

    clients.py --host IP --port 80 --page PATH=FILE[:TYPE] ... GROUP ...
    clients.py fnv FILE

Groups: http (http.client keep-alive), pipeline, malformed, tasks (the /echo pool's
503), concurrent (N connections held open at once). Prints one "ok - ..." or
"not ok - ..." line per check (test.sh numbers them) and exits 1 if any check failed.
Every socket operation has a timeout and every group a deadline.
"""

import argparse
import email.utils
import errno
import http.client
import os
import random
import re
import resource
import selectors
import socket
import sys
import time

TIMEOUT = 20.0
# A pipeline that makes no progress for this long has stalled.
PIPELINE_STALL = 15.0
# A pipeline over a local link should be answered within this: milliseconds of work,
# so a second means the requests waited for the client's retransmission timer.
PIPELINE_FAST = 1
FAILED = 0

REASONS = {
    200: "OK",
    304: "Not Modified",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
    412: "Precondition Failed",
    413: "Content Too Large",
    414: "URI Too Long",
    431: "Request Header Fields Too Large",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "HTTP Version Not Supported",
}

ETAG_RE = re.compile(rb'^"[0-9a-f]{16}"$')
DATE_RE = re.compile(
    rb"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} "
    rb"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} "
    rb"[0-9]{2}:[0-9]{2}:[0-9]{2} GMT$"
)


def report(ok, desc, detail=""):
    """One KTAP-style result line (test.sh adds the numbers)."""
    global FAILED
    if not ok:
        FAILED += 1
    line = ("ok - " if ok else "not ok - ") + desc
    if detail and not ok:
        line += " # " + detail.replace("\n", " ")[:600]
    print(line, flush=True)
    return ok


def fnv1a64(data):
    """FNV-1a 64-bit, the hash GigaHttpd's /echo reports."""
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def echo_body(data):
    return b"%d %016x\n" % (len(data), fnv1a64(data))


# Content types by extension when a --page gives none, as ghtap guesses them.
TYPES = {
    "html": "text/html",
    "htm": "text/html",
    "txt": "text/plain",
    "css": "text/css",
    "js": "text/javascript",
    "json": "application/json",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
}


class Page:
    def __init__(self, spec):
        path, rest = spec.split("=", 1)
        file, _, ctype = rest.rpartition(":")
        if not file or "/" not in ctype:
            ext = rest.rpartition(".")[2]
            file, ctype = rest, TYPES.get(ext, "application/octet-stream")
        self.path = path
        self.ctype = ctype
        with open(file, "rb") as f:
            self.body = f.read()


# --- what the server must send ------------------------------------------------------------


def head_fields(status, fields):
    lines = ["HTTP/1.1 %d %s" % (status, REASONS[status])]
    lines += ["%s: %s" % (k, v) for k, v in fields if v is not None]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def page_response(page, date, etag, head=False, conn=None):
    fields = [
        ("Date", date),
        ("Server", "GigaHttpd"),
        ("Content-Length", len(page.body)),
        ("Content-Type", page.ctype),
        ("ETag", etag),
        ("Connection", conn),
    ]
    return head_fields(200, fields) + (b"" if head else page.body)


def not_modified(date, etag, conn=None):
    fields = [("Date", date), ("Server", "GigaHttpd"), ("ETag", etag), ("Connection", conn)]
    return head_fields(304, fields)


def text_response(status, body, date, conn=None, allow=None, head=False):
    fields = [
        ("Date", date),
        ("Server", "GigaHttpd"),
        ("Content-Length", len(body)),
        ("Content-Type", "text/plain"),
        ("Allow", allow),
        ("Connection", conn),
    ]
    return head_fields(status, fields) + (b"" if head else body)


def error_response(status, date, allow=None):
    body = ("%d %s\n" % (status, REASONS[status])).encode()
    return text_response(status, body, date, conn="close", allow=allow)


def not_found(date, conn=None, head=False):
    return text_response(404, b"404 Not Found\n", date, conn=conn, head=head)


# --- reading responses --------------------------------------------------------------------


class Closed(Exception):
    pass


class Conn:
    """A raw client connection that reads whole responses, keeping their exact bytes."""

    def __init__(self, host, port, timeout=TIMEOUT):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        try:
            d = self.sock.recv(262144)
        except ConnectionResetError:
            d = b""
        if not d:
            raise Closed()
        self.buf += d

    def _take(self, n):
        while len(self.buf) < n:
            self._fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def response(self, method="GET"):
        """The next response's bytes: head, then a body by Content-Length (none for HEAD
        and 304), or up to the close without Content-Length."""
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(self.buf) > 65536:
                raise ValueError("response head too long")
            self._fill()
        head = self._take(end + 4)
        status = int(head[9:12]) if head[:9] in (b"HTTP/1.1 ", b"HTTP/1.0 ") else 0
        length = None
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value.strip())
        if method == "HEAD" or status == 304:
            return head
        if length is None:
            rest = bytearray(self.buf)
            self.buf.clear()
            try:
                while True:
                    self._fill()
                    rest += self.buf
                    self.buf.clear()
            except Closed:
                pass
            return head + bytes(rest)
        return head + self._take(length)

    def closed_by_peer(self, wait=5.0):
        """True if the server closes the connection (EOF or RST) within `wait` seconds
        without sending anything more."""
        if self.buf:
            return False
        self.sock.settimeout(wait)
        try:
            d = self.sock.recv(1)
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False
        finally:
            self.sock.settimeout(TIMEOUT)
        return d == b""


def header(resp, name):
    """The value of header `name` in the raw response bytes, or None."""
    head = resp.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.lower() == name.lower().encode():
            return v.strip()
    return None


class Site:
    """What the client knows about the server: its pages and the ETags seen so far, which
    must never change for a page and must differ between pages."""

    def __init__(self, pages):
        self.pages = pages
        self.etags = {}

    def date(self, resp):
        """The response's Date if it is an IMF-fixdate close to our clock, else a
        placeholder that makes the byte comparison fail visibly."""
        d = header(resp, "Date")
        if d is None or not DATE_RE.match(d):
            return "<bad or missing Date %r>" % d
        t = email.utils.parsedate_to_datetime(d.decode()).timestamp()
        if abs(t - time.time()) > 10:
            return "<Date %r is %d s off>" % (d, t - time.time())
        return d.decode()

    def etag(self, page, resp):
        e = header(resp, "ETag")
        if e is None or not ETAG_RE.match(e):
            return "<bad or missing ETag %r>" % e
        e = e.decode()
        known = self.etags.setdefault(page.path, e)
        if known != e:
            return "<ETag %s changed from %s>" % (e, known)
        for path, other in self.etags.items():
            if path != page.path and other == e and self.page(path).body != page.body:
                return "<ETag %s also names %s>" % (e, path)
        return e

    def page(self, path):
        return next(p for p in self.pages if p.path == path)

    def expect_page(self, resp, page, head=False, conn=None):
        return page_response(page, self.date(resp), self.etag(page, resp), head, conn)

    def expect_304(self, resp, page, conn=None):
        return not_modified(self.date(resp), self.etag(page, resp), conn)


def diff(got, want):
    """Where two responses first differ, with context, for a failure line."""
    if got == want:
        return ""
    i = next((k for k in range(min(len(got), len(want))) if got[k] != want[k]), None)
    if i is None:
        i = min(len(got), len(want))
    lo = max(0, i - 40)
    return "len got %d want %d; first difference at byte %d: got %r want %r" % (
        len(got),
        len(want),
        i,
        got[lo : i + 60],
        want[lo : i + 60],
    )


def check_bytes(desc, got, want):
    return report(got == want, desc, diff(got, want))


def attempt(desc, fn):
    """Runs one check, turning a client-side error (timeout, reset) into a failure."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - any client error is a failed check
        report(False, desc, "%s: %s" % (type(e).__name__, e))


def request(method, path, headers=(), body=b"", version="1.1"):
    lines = ["%s %s HTTP/%s" % (method, path, version), "Host: ghtap"]
    lines += ["%s: %s" % h for h in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


# --- groups -------------------------------------------------------------------------------


class Recorded:
    """A response's socket file that keeps every byte http.client reads from it, and, when
    http.client closes it after the response, whatever had come after the response
    (`leftover`: read ahead into the file's buffer, or waiting in the socket)."""

    def __init__(self, fp, sock):
        self.fp, self.sock, self.seen, self.leftover = fp, sock, bytearray(), b""

    def readline(self, *limit):
        return self._keep(self.fp.readline(*limit))

    def read(self, *n):
        return self._keep(self.fp.read(*n))

    def readinto(self, buf):
        n = self.fp.readinto(buf)
        self.seen += memoryview(buf)[: n or 0]
        return n

    def _keep(self, b):
        self.seen += b
        return b

    def close(self):
        # Without blocking: the file's buffer, then the socket.
        timeout = self.sock.gettimeout()
        try:
            self.sock.setblocking(False)
            ahead = bytes(self.fp.peek()) if not self.fp.closed else b""
            try:
                waiting = self.sock.recv(65536, socket.MSG_PEEK)
            except BlockingIOError:
                waiting = b""
            self.leftover = ahead + waiting
        finally:
            self.sock.settimeout(timeout)
        self.fp.close()

    def __getattr__(self, name):
        return getattr(self.fp, name)


class RecordedResponse(http.client.HTTPResponse):
    """An http.client response that also has the bytes it was parsed from (`raw`)."""

    def __init__(self, sock, *args, **kwargs):
        super().__init__(sock, *args, **kwargs)
        self.fp = self.recorded = Recorded(self.fp, sock)

    @property
    def raw(self):
        return bytes(self.recorded.seen)


def group_http(a, site):
    """http.client with keep-alive: GETs, HEADs, conditional GETs and POSTs, all on one
    connection, then HTTP/1.0 and Connection: close over raw sockets. Every response is
    compared as the bytes http.client read for it, status line and head included."""
    conn = http.client.HTTPConnection(a.host, a.port, timeout=TIMEOUT)
    conn.response_class = RecordedResponse
    first_port = []

    def same_connection():
        port = conn.sock.getsockname()[1] if conn.sock else None
        first_port.append(port)
        return port is not None and port == first_port[0]

    def roundtrip(method, path, body=None, headers=None):
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return r, data

    def raw_of(r, data):
        """The bytes the response was read from, which must hold the body read, with
        nothing after them (a body after HEAD or 304, or bytes sent twice)."""
        if not r.raw.endswith(data):
            raise AssertionError("the body read is not the end of the bytes received")
        if r.recorded.leftover:
            raise AssertionError("%d bytes after the response: %r"
                                 % (len(r.recorded.leftover), r.recorded.leftover[:80]))
        return r.raw

    def get_pages():
        for p in site.pages:
            r, data = roundtrip("GET", p.path)
            got = raw_of(r, data)
            check_bytes(
                "http.client GET %s (%d bytes)" % (p.path, len(p.body)),
                got,
                site.expect_page(got, p),
            )
        report(same_connection(), "http.client: all GETs on one keep-alive connection")

    attempt("http.client GETs", get_pages)

    def head_and_query():
        p = site.pages[0]
        r, data = roundtrip("HEAD", p.path)
        got = raw_of(r, data)
        check_bytes("http.client HEAD %s" % p.path, got, site.expect_page(got, p, head=True))
        r, data = roundtrip("GET", p.path + "?a=1&b=%20")
        got = raw_of(r, data)
        check_bytes("http.client GET %s?query is the page" % p.path, got, site.expect_page(got, p))
        # RFC 9112 section 3: request lines of 8,000 bytes are to be taken.
        target = p.path + "?" + "q" * (8000 - len(p.path) - 1)
        r, data = roundtrip("GET", target)
        got = raw_of(r, data)
        check_bytes("http.client GET of an 8000-byte target", got, site.expect_page(got, p))
        r, data = roundtrip("GET", "/no/such/page")
        got = raw_of(r, data)
        check_bytes("http.client GET unknown path is 404", got, not_found(site.date(got)))
        r, data = roundtrip("GET", p.path)
        got = raw_of(r, data)
        check_bytes(
            "http.client GET after a 404 on the same connection", got, site.expect_page(got, p)
        )
        report(same_connection(), "http.client: the 404 kept the connection open")

    attempt("http.client HEAD, query, 404", head_and_query)

    def conditional():
        for p in site.pages:
            r, data = roundtrip("GET", p.path)
            etag = site.etag(p, raw_of(r, data))
            r, data = roundtrip("GET", p.path, headers={"If-None-Match": etag})
            got = raw_of(r, data)
            check_bytes(
                "http.client If-None-Match %s on %s is 304" % (etag, p.path),
                got,
                site.expect_304(got, p),
            )
        p = site.pages[0]
        r, data = roundtrip("GET", p.path, headers={"If-None-Match": "*"})
        got = raw_of(r, data)
        check_bytes("http.client If-None-Match * is 304", got, site.expect_304(got, p))
        r, data = roundtrip("GET", p.path, headers={"If-None-Match": '"0123456789abcdef"'})
        got = raw_of(r, data)
        check_bytes(
            "http.client If-None-Match with another ETag is 200", got, site.expect_page(got, p)
        )
        r, data = roundtrip(
            "HEAD", p.path, headers={"If-None-Match": site.etags.get(p.path, '"none"')}
        )
        got = raw_of(r, data)
        check_bytes("http.client HEAD If-None-Match is 304", got, site.expect_304(got, p))
        r, data = roundtrip("GET", p.path)
        etag = site.etag(p, raw_of(r, data))
        r, data = roundtrip("GET", p.path, headers={"If-Match": '"x", ' + etag})
        got = raw_of(r, data)
        check_bytes("http.client If-Match with the ETag is 200", got, site.expect_page(got, p))
        r, data = roundtrip("GET", p.path, headers={"If-Match": "W/" + etag})
        got = raw_of(r, data)
        want = text_response(412, b"412 Precondition Failed\n", site.date(got))
        check_bytes("http.client If-Match with the weak ETag is 412", got, want)
        r, data = roundtrip("GET", p.path)
        got = raw_of(r, data)
        check_bytes("http.client GET after the 412 on the same connection", got, site.expect_page(got, p))

    attempt("http.client conditional GETs", conditional)

    def posts():
        rng = random.Random(7)
        sizes = [0, 1, 1000, 1460, 1461, 65535, 100_000, 1 << 20]
        for n in sizes:
            body = bytes(rng.getrandbits(8) for _ in range(n)) if n <= 100_000 else os.urandom(n)
            r, data = roundtrip(
                "POST", "/echo", body=body, headers={"Content-Type": "application/octet-stream"}
            )
            got = raw_of(r, data)
            want = text_response(200, echo_body(body), site.date(got))
            check_bytes("http.client POST /echo with %d bytes" % n, got, want)
        # An iterable body goes in the chunked transfer coding, one chunk per piece.
        for sizes in ([1, 1000, 4000], [70_000, 0, 3]):
            pieces = [os.urandom(n) for n in sizes]
            r, data = roundtrip("POST", "/echo", body=iter(pieces))
            got = raw_of(r, data)
            want = text_response(200, echo_body(b"".join(pieces)), site.date(got))
            check_bytes("http.client POST /echo in chunks of %s bytes" % sizes, got, want)
        report(same_connection(), "http.client: all POSTs on the same keep-alive connection")
        p = site.pages[0]
        r, data = roundtrip("POST", p.path, body=b"x=1")
        got = raw_of(r, data)
        want = text_response(405, b"405 Method Not Allowed\n", site.date(got), allow="GET, HEAD")
        check_bytes("http.client POST to page %s is 405 with Allow: GET, HEAD" % p.path, got, want)
        r, data = roundtrip("GET", p.path)
        got = raw_of(r, data)
        check_bytes(
            "http.client GET after the 405 on the same connection", got, site.expect_page(got, p)
        )
        report(same_connection(), "http.client: the 405 kept the connection open")

    attempt("http.client POSTs", posts)
    conn.close()

    def post_elsewhere():
        c = Conn(a.host, a.port)
        c.send(request("POST", "/elsewhere", [("Content-Length", "5")], b"hello"))
        got = c.response()
        check_bytes("POST to an unknown path is 404", got, not_found(site.date(got)))
        c.close()

    attempt("POST to an unknown path is 404", post_elsewhere)

    def http10():
        p = site.pages[0]
        c = Conn(a.host, a.port)
        c.send(request("GET", p.path, version="1.0"))
        got = c.response()
        check_bytes(
            "HTTP/1.0 GET gets Connection: close", got, site.expect_page(got, p, conn="close")
        )
        report(c.closed_by_peer(), "HTTP/1.0 GET: the server closes")
        c.close()
        c = Conn(a.host, a.port)
        for i in range(3):
            c.send(request("GET", p.path, [("Connection", "keep-alive")], version="1.0"))
            got = c.response()
            check_bytes(
                "HTTP/1.0 keep-alive GET #%d gets Connection: keep-alive" % i,
                got,
                site.expect_page(got, p, conn="keep-alive"),
            )
        c.send(request("GET", p.path, version="1.0"))
        got = c.response()
        check_bytes(
            "HTTP/1.0 GET without keep-alive ends the connection",
            got,
            site.expect_page(got, p, conn="close"),
        )
        report(c.closed_by_peer(), "HTTP/1.0 keep-alive connection: closed after the last request")
        c.close()
        c = Conn(a.host, a.port)
        c.send(request("GET", p.path, [("Connection", "close")]))
        got = c.response()
        check_bytes(
            "HTTP/1.1 Connection: close is echoed", got, site.expect_page(got, p, conn="close")
        )
        report(c.closed_by_peer(), "HTTP/1.1 Connection: close: the server closes")
        c.close()

    attempt("HTTP/1.0 and Connection: close", http10)


def group_pipeline(a, site):
    """Several requests written at once on one socket; responses must come back in order,
    each byte for byte, however the requests are split into segments."""
    p0 = site.pages[0]
    big = max(site.pages, key=lambda p: len(p.body) if len(p.body) < 1_000_000 else -1)

    def etag_of(p):
        c = Conn(a.host, a.port)
        c.send(request("GET", p.path))
        e = site.etag(p, c.response())
        c.close()
        return e

    etag0 = etag_of(p0)
    post = os.urandom(3000)
    # (request bytes, method, function from response to expected bytes)
    script = [
        (request("GET", p0.path), "GET", lambda r: site.expect_page(r, p0)),
        (request("HEAD", p0.path), "HEAD", lambda r: site.expect_page(r, p0, head=True)),
        (request("GET", "/missing"), "GET", lambda r: not_found(site.date(r))),
        (
            request("POST", "/echo", [("Content-Length", str(len(post)))], post),
            "POST",
            lambda r: text_response(200, echo_body(post), site.date(r)),
        ),
        (
            request("GET", p0.path, [("If-None-Match", etag0)]),
            "GET",
            lambda r: site.expect_304(r, p0),
        ),
    ]
    script += [
        (request("GET", p.path), "GET", (lambda p: lambda r: site.expect_page(r, p))(p))
        for p in site.pages
    ]
    script.append(
        (
            request("GET", p0.path, [("Connection", "close")]),
            "GET",
            lambda r: site.expect_page(r, p0, conn="close"),
        )
    )

    def run(desc, chunks):
        t0 = time.monotonic()
        c = Conn(a.host, a.port, timeout=PIPELINE_STALL)
        data = b"".join(s[0] for s in script)
        if chunks is None:
            c.send(data)
        else:
            rng = random.Random(chunks)
            i = 0
            while i < len(data):
                n = rng.randint(1, chunks)
                c.send(data[i : i + n])
                i += n
                if rng.random() < 0.2:
                    time.sleep(0.002)
        bad = []
        for k, (_, method, want) in enumerate(script):
            got = c.response(method)
            w = want(got)
            if got != w:
                bad.append("response %d: %s" % (k, diff(got, w)))
        took = time.monotonic() - t0
        report(
            not bad,
            "%s: %d responses in order, byte for byte" % (desc, len(script)),
            "; ".join(bad),
        )
        report(c.closed_by_peer(), "%s: closed after the Connection: close request" % desc)
        report(
            took < PIPELINE_FAST, "%s: answered within %d s (%.2f s)" % (desc, PIPELINE_FAST, took)
        )
        c.close()

    attempt("pipeline in one write", lambda: run("pipeline in one write", None))
    attempt("pipeline in 1-7 byte segments", lambda: run("pipeline in 1-7 byte segments", 7))
    attempt("pipeline in 1-200 byte segments", lambda: run("pipeline in 1-200 byte segments", 200))

    def many_big():
        n = 20
        t0 = time.monotonic()
        c = Conn(a.host, a.port, timeout=PIPELINE_STALL)
        c.send(request("GET", big.path) * n)
        bad, k = [], 0
        times = []
        try:
            for k in range(n):
                got = c.response()
                times.append(time.monotonic() - t0)
                w = site.expect_page(got, big)
                if got != w:
                    bad.append("response %d: %s" % (k, diff(got, w)))
        except (socket.timeout, Closed) as e:
            bad.append("stalled after %d of %d responses (%s)" % (k, n, type(e).__name__))
        took = time.monotonic() - t0
        report(
            not bad,
            "%d pipelined GETs of %s (%d bytes each), byte for byte" % (n, big.path, len(big.body)),
            "; ".join(bad[:3]) + "; responses at %s s" % ", ".join("%.2f" % t for t in times),
        )
        report(
            took < PIPELINE_FAST,
            "%d pipelined GETs of %s answered within %d s (%.2f s)"
            % (n, big.path, PIPELINE_FAST, took),
            "responses at %s s" % ", ".join("%.2f" % t for t in times),
        )
        c.close()

    attempt("pipelined big GETs", many_big)


def group_malformed(a, site):
    """Requests the server must refuse with a specific status, then close."""
    long_target = "/" + "a" * 8000
    many_headers = [("X-Fill-%03d" % i, "v" * 100) for i in range(150)]
    cases = [
        ("bad request line", b"GARBAGE\r\n\r\n", 400),
        ("request line without version", b"GET /\r\n\r\n", 400),
        ("bare LF line ends", b"GET / HTTP/1.1\nHost: x\n\n", 400),
        ("space before colon", b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400),
        ("PUT", request("PUT", "/", [("Content-Length", "0")]), 405),
        ("DELETE", request("DELETE", "/"), 405),
        ("PUT to /echo", request("PUT", "/echo", [("Content-Length", "0")]), 405),
        ("unknown method BREW", request("BREW", "/"), 501),
        ("HTTP/2.0", request("GET", "/", version="2.0"), 505),
        ("POST without Content-Length", request("POST", "/echo"), 411),
        (
            "Content-Length over 1 MiB",
            request("POST", "/echo", [("Content-Length", str((1 << 20) + 1))]),
            413,
        ),
        ("target over 8000 bytes", request("GET", long_target), 414),
        ("header block over 16384 bytes", request("GET", "/", many_headers), 431),
        (
            "conflicting duplicate Content-Length",
            request("POST", "/echo", [("Content-Length", "3"), ("Content-Length", "4")], b"abcd"),
            400,
        ),
        (
            "Content-Length with Transfer-Encoding",
            request(
                "POST", "/echo", [("Content-Length", "3"), ("Transfer-Encoding", "chunked")], b"abc"
            ),
            400,
        ),
        (
            "Transfer-Encoding: gzip, chunked",
            request("POST", "/echo", [("Transfer-Encoding", "gzip, chunked")], b"0\r\n\r\n"),
            501,
        ),
        (
            "a chunk longer than its size",
            request("POST", "/echo", [("Transfer-Encoding", "chunked")], b"3\r\nabcd\r\n"),
            400,
        ),
        (
            "chunks over 1 MiB",
            request("POST", "/echo", [("Transfer-Encoding", "chunked")], b"100001\r\n"),
            413,
        ),
    ]
    for desc, data, status in cases:

        def one(desc=desc, data=data, status=status):
            c = Conn(a.host, a.port)
            c.send(data)
            got = c.response()
            # A 405's Allow names the methods its target takes: a page, or the echo task.
            allow = {"PUT": "GET, HEAD", "DELETE": "GET, HEAD", "PUT to /echo": "POST"}.get(desc)
            check_bytes(
                "%s is %d" % (desc, status), got, error_response(status, site.date(got), allow)
            )
            report(c.closed_by_peer(), "%s: the server closes" % desc)
            c.close()

        attempt("%s is %d" % (desc, status), one)

    def after_good():
        # A refusal after good requests on the same connection: the earlier answers stand.
        p = site.pages[0]
        c = Conn(a.host, a.port)
        c.send(request("GET", p.path) + b"BREW / HTTP/1.1\r\n\r\n")
        got = c.response()
        check_bytes("good request before a bad one is answered", got, site.expect_page(got, p))
        got = c.response()
        check_bytes("then the bad one gets 501", got, error_response(501, site.date(got)))
        report(c.closed_by_peer(), "then the server closes")
        c.close()

    attempt("malformed after a good request", after_good)

    def still_serving():
        p = site.pages[0]
        c = Conn(a.host, a.port)
        c.send(request("GET", p.path, [("Connection", "close")]))
        got = c.response()
        check_bytes(
            "server still answers after the refusals", got, site.expect_page(got, p, conn="close")
        )
        c.close()

    attempt("server still answers after the refusals", still_serving)


def complete(buf):
    """True once `buf` holds a whole response with a Content-Length body (or more)."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return False
    length = header(bytes(buf[: end + 4]), "Content-Length")
    return length is not None and len(buf) >= end + 4 + int(length)


def count_established(host, port):
    """Client-side sockets to host:port in ESTABLISHED, from /proc/net/tcp."""
    want = "%08X:%04X" % (int.from_bytes(socket.inet_aton(host), "little"), port)
    n = 0
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            parts = line.split()
            if parts[2] == want and parts[3] == "01":
                n += 1
    return n


def group_concurrent(a, site):
    """N connections held open at once, then one GET on each, every response checked."""
    n = a.connections
    need = n + 512
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, max(need, hard)))
    p = site.pages[0]
    deadline = time.monotonic() + a.deadline
    sel = selectors.DefaultSelector()
    socks = []
    failed = []
    t0 = time.monotonic()
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex((a.host, a.port))
        if err not in (0, errno.EINPROGRESS):
            failed.append("connect %d: %s" % (i, os.strerror(err)))
            s.close()
            continue
        socks.append(s)
        sel.register(s, selectors.EVENT_WRITE, i)
    pending = len(socks)
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1.0):
            s = key.fileobj
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            sel.unregister(s)
            pending -= 1
            if err:
                failed.append("connection %d: %s" % (key.data, os.strerror(err)))
    t_open = time.monotonic() - t0
    report(
        not failed and pending == 0,
        "%d connections open at once (%.1f s)" % (n, t_open),
        "%d pending, %d failed: %s" % (pending, len(failed), "; ".join(failed[:3])),
    )
    time.sleep(1.0)
    est = count_established(a.host, a.port)
    report(est >= n, "%d connections still established after 1 s (kernel: %d)" % (n, est))
    # One GET on each; read every response in full and check it.
    req = request("GET", p.path)
    bufs = {}
    for s in socks:
        try:
            s.send(req)
            bufs[s] = bytearray()
            sel.register(s, selectors.EVENT_READ)
        except OSError as e:
            failed.append("send: %s" % e)
    done, bad = 0, []
    t1 = time.monotonic()
    while done + len(bad) < len(bufs) and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1.0):
            s = key.fileobj
            try:
                d = s.recv(65536)
            except OSError as e:
                d = b""
                bad.append("recv: %s" % e)
            if d:
                bufs[s] += d
                if not complete(bufs[s]):
                    continue
            sel.unregister(s)
            got = bytes(bufs[s])
            want = site.expect_page(got, p)
            if got == want:
                done += 1
            elif d:
                bad.append(diff(got, want))
            else:
                bad.append("closed after %d bytes: %r" % (len(got), got[:200]))
    t_get = time.monotonic() - t1
    report(
        done == n,
        "%d responses read on %d connections, byte for byte (%.1f s)" % (done, n, t_get),
        "%d bad, %d missing: %s" % (len(bad), len(bufs) - done - len(bad), "; ".join(bad[:3])),
    )
    # A response is read up to its Content-Length: nothing may follow it on a connection
    # kept alive (no stray or duplicated data, no close).
    time.sleep(0.5)
    extra = []
    for s in bufs:
        try:
            d = s.recv(65536)
            extra.append("%d bytes after the response: %r" % (len(d), d[:80]) if d else "closed")
        except BlockingIOError:
            pass
        except OSError as e:
            extra.append("recv: %s" % e)
    report(
        not extra,
        "nothing after the response on any of the %d connections" % len(bufs),
        "%d connections: %s" % (len(extra), "; ".join(extra[:3])),
    )
    for s in socks:
        s.close()
    sel.close()


def group_tasks(a, site):
    """The echo task pool is bounded: with every task holding a body in progress, one more
    POST /echo gets 503 and a close; the others still get their answers, and the pool is
    whole again afterwards."""
    n = a.tasks
    bodies = [os.urandom(1000 + i) for i in range(n)]
    conns = []
    for body in bodies:
        c = Conn(a.host, a.port)
        # The head alone: the task is taken when the head ends and held for the body.
        c.send(request("POST", "/echo", [("Content-Length", str(len(body)))]))
        conns.append(c)
    time.sleep(0.3)
    extra = Conn(a.host, a.port)
    extra.send(request("POST", "/echo", [("Content-Length", "5")], b"hello"))
    got = extra.response()
    check_bytes(
        "POST /echo with all %d tasks busy is 503" % n, got, error_response(503, site.date(got))
    )
    report(extra.closed_by_peer(), "the 503 closes the connection")
    extra.close()
    bad = []
    for k, (c, body) in enumerate(zip(conns, bodies)):
        c.send(body)
        got = c.response()
        want = text_response(200, echo_body(body), site.date(got))
        if got != want:
            bad.append("task %d: %s" % (k, diff(got, want)))
        c.close()
    report(not bad, "the %d POSTs holding the tasks are answered" % n, "; ".join(bad[:3]))
    time.sleep(0.3)
    # The pool is whole again: as many bodies in progress at once as there are tasks, and
    # each is answered.
    conns = []
    for k in range(n):
        c = Conn(a.host, a.port)
        c.send(request("POST", "/echo", [("Content-Length", str(len(b"again %d" % k)))]))
        conns.append(c)
    time.sleep(0.3)
    ok = 0
    for k, c in enumerate(conns):
        body = b"again %d" % k
        c.send(body)
        got = c.response()
        ok += got == text_response(200, echo_body(body), site.date(got))
        c.close()
    report(ok == n, "then %d POSTs held at once all get a task (%d did)" % (n, ok))


GROUPS = {
    "http": group_http,
    "pipeline": group_pipeline,
    "malformed": group_malformed,
    "concurrent": group_concurrent,
    "tasks": group_tasks,
}


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "fnv":
        with open(sys.argv[2], "rb") as f:
            sys.stdout.write(echo_body(f.read()).decode())
        return 0
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, default=80)
    ap.add_argument(
        "--page", action="append", required=True, help="PATH=FILE[:TYPE], as given to ghtap"
    )
    ap.add_argument("--connections", type=int, default=10000, help="for the concurrent group")
    ap.add_argument("--deadline", type=float, default=90.0, help="seconds for the concurrent group")
    ap.add_argument("--tasks", type=int, default=64, help="ghtap's --tasks, for the tasks group")
    ap.add_argument("groups", nargs="+", choices=sorted(GROUPS))
    a = ap.parse_args()
    site = Site([Page(s) for s in a.page])
    for g in a.groups:
        try:
            GROUPS[g](a, site)
        except Exception as e:  # noqa: BLE001 - a crashed group is a failed check
            report(False, "group %s ran to completion" % g, "%s: %s" % (type(e).__name__, e))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
