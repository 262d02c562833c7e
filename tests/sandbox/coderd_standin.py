#!/usr/bin/env python3
"""A coderd stand-in: the unauthenticated surface of coderd that an agent and a prober see.

    coderd_standin.py --listen IP:PORT [--listen IP:PORT ...] [--pidfile FILE] [--log FILE]
                      [--version V] [--deployment-id ID] [--access-url URL] [--derp-keepalive S]
                      [--status CODE] [--slim] [--role NAME] [--derp-key-seed SEED]
                      [--max-connections N]

Plain HTTP/1.1, no TLS (TLS is the ingress's job: the sandbox puts nginx in front). Standard
library only (Python 3.11, asyncio). Written from /work/shared/design/CODERD-SURFACE.md, which was
read from coder/coder (coderd/coderd.go, coderd/httpmw/workspaceagent.go, coderd/httpmw/apikey.go,
coderd/httpapi/httpapi.go, coderd/workspaceagents.go (derpMapUpdates), tailnet/derp.go
(WithWebsocketSupport), site/bin.go) and coder/tailscale (derp/derp.go, derp/derp_server.go,
derp/derphttp/derphttp_server.go), plus nhooyr.io/websocket's accept.go for the handshake errors.

Reproduced byte for byte:
  - the status lines and bodies of: GET /healthz (`OK`), GET /derp without upgrade (426,
    `text/plain; charset=utf-8`, `DERP requires connection upgrade\\n`), the agent RPC's 401s
    (`Cookie "coder_session_token" must be provided.`, `Workspace agent token invalid.` for a
    non-UUID token, `Workspace agent not authorized.` for a UUID one), the signed-out 401 and
    `Route not found.` 404 (JSON as httpapi.Write: `application/json; charset=utf-8`, encoder
    newline, `detail` omitted when empty), nhooyr's 426 for a non-upgrade WebSocket request
    (`Connection: Upgrade`, `Upgrade: websocket`, text body), `404 page not found\\n` (slim /bin);
  - `X-Coder-Build-Version: <version>` on every ordinary answer (not on the raw DERP 101);
  - the raw DERP 101, header for header and in order: `HTTP/1.1 101 Switching Protocols`,
    `Upgrade: DERP`, `Connection: Upgrade`, `Derp-Version: 2`, `Derp-Public-Key: <64 hex>`, blank
    line; `Derp-Fast-Start: 1` suppresses it;
  - the RFC 6455 101 (Sec-WebSocket-Accept from the key, subprotocol `derp` echoed), DERP bytes in
    binary messages, one frame per message;
  - DERP frames: server key = 0x01, 00 00 00 28, `DERP\\xf0\\x9f\\x94\\x91`, 32 key bytes (45 bytes);
    keepalive = 0x06, 00 00 00 00;
  - /api/v2/derp-map as a WebSocket without auth: one binary message with the JSON map (+ newline,
    json.Encoder), then pings every 15 s (payloads "1", "2", ... as nhooyr's Ping).

With --api-fixture FILE (re-read on every request; absent file: as without the option), the
owner-token API the doctor's --coder-token-file reads, as coderd/httpmw/apikey.go and
coderd/workspaces.go answer it:
  - the session token from the `Coder-Session-Token` header, else the `coder_session_token` query
    parameter, else the cookie. None: 401 with the signed-out message and detail `Cookie
    "coder_session_token" or query parameter must be provided.`; not `<10-char id>-<22-char
    secret>`: 401, detail `Invalid API key format: ...`; well-formed but not in the fixture: 401,
    detail `API key is invalid.`;
  - GET /api/v2/users/me: a codersdk.User (`username`, `roles[{name, display_name}]`, ...);
  - GET /api/v2/workspaces?limit=N&offset=K: `{"workspaces": [...], "count": total}`; a user whose
    roles hold neither owner nor auditor sees only workspaces with their `owner_name` (200, as
    coderd's RBAC filter does); the fixture's `page_size` caps the rows of one page;
  - GET /api/v2/debug/health: the fixture's `health` for an owner; anyone else gets coderd's
    403 `Forbidden.` (the /debug routes require the owner-only debug-info permission).
  Fixture: {"tokens": {TOKEN: {"username", "roles": [...]}}, "workspaces": [codersdk.Workspace],
  "health": healthsdk.HealthcheckReport, "page_size": N}; tests/sandbox/coder-api/compose.py
  writes the sandbox's.
  - the writable API that `rollout` uses (template push, workspace builds), with its state kept in
    the fixture file: see coderd_templates.py.

Deviations (on purpose):
  - after the server-key frame real coderd waits ~10 s for the client-info frame (type 0x02) and
    closes otherwise; this stand-in keeps the connection open and sends keepalives until the client
    closes, so tests can hold a DERP connection idle (e.g. against an ingress's read timeout).
  - keepalives come every --derp-keepalive seconds exactly (real: 60 s + up to 5 s jitter).
  - unknown paths outside /api get `404 {"message":"Route not found."}` (real coderd serves the
    dashboard's index.html there); every unknown /api/v2 route gets the signed-out 401.
  - --status CODE makes /healthz and /api/v2/buildinfo answer CODE (`<CODE> <reason>\\n`, no
    identity header: "something that is not a working coderd answered"), for the coder-down world.
  - the DERP key is derived from --derp-key-seed (default: random), so two stand-ins of one
    deployment show one key; real replicas each have their own.
  - no permessage-deflate, no HTTP/2, no chunked request bodies (Content-Length only, up to 8 MiB).

Bounds: request heads over 16 KiB get 431 and a close; a connection without a complete request
head for --idle-timeout seconds (default 120) is closed; over --max-connections concurrent
connections a new one is closed at once; WebSocket frames from clients over 1 MiB close with 1009.
/__sandbox answers `sandbox ROLE coderd-standin pid N` (the sandbox's readiness probe).
One line per request goes to --log (default stderr). The pid file is written once every listener
is bound and removed on SIGTERM/SIGINT.
"""
import argparse
import asyncio
import base64
import hashlib
import http
import json
import os
import re
import signal
import struct
import sys
import time
import urllib.parse
import uuid
from email.utils import formatdate

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from coderd_templates import TemplateApi  # noqa: E402  (the writable API: template push, builds)

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
DERP_MAGIC = b"DERP\xf0\x9f\x94\x91"
FRAME_SERVER_KEY = 0x01
FRAME_KEEPALIVE = 0x06
MAX_HEAD = 16 * 1024
MAX_FIXTURE = 4 << 20
MAX_WS_PAYLOAD = 1 << 20
MAX_BODY = 8 << 20  # request bodies (template uploads); real coderd takes up to 100 MiB
WS_PING_SECONDS = 15.0
BIN_BODY_SIZE = 4096
SIGNED_OUT = "You are signed out or your session has expired. Please sign in again to continue."
TOKEN_COOKIE = "coder_session_token"


class HeadTooLarge(Exception):
    pass


class BadRequest(Exception):
    pass


class Request:
    def __init__(self, method, target, version, headers):
        self.method, self.target, self.version = method, target, version
        self.headers = headers  # lower-case name -> value (repeated headers joined with ", ")
        parts = urllib.parse.urlsplit(target)
        self.path = parts.path or "/"
        self.query = urllib.parse.parse_qs(parts.query)
        self.body = b""

    def header(self, name):
        return self.headers.get(name.lower(), "")

    def has_token(self, name, token):
        return token.lower() in [t.strip().lower() for t in self.header(name).split(",")]

    def keep_alive(self):
        if self.has_token("connection", "close"):
            return False
        return self.version == "HTTP/1.1" or self.has_token("connection", "keep-alive")


def parse_head(raw):
    try:
        text = raw.decode("latin-1")
    except UnicodeDecodeError as e:  # pragma: no cover - latin-1 decodes everything
        raise BadRequest(str(e))
    lines = text.split("\r\n")
    m = re.fullmatch(r"([A-Z]+) (\S+) (HTTP/1\.[01])", lines[0])
    if not m:
        raise BadRequest("malformed request line")
    headers = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise BadRequest("malformed header line")
        key = name.lower()
        value = value.strip()
        headers[key] = headers[key] + ", " + value if key in headers else value
    return Request(m.group(1), m.group(2), m.group(3), headers)


def canonical(name):  # Go's textproto.CanonicalMIMEHeaderKey
    return "-".join(p[:1].upper() + p[1:].lower() for p in name.split("-"))


def ws_accept(key):
    return base64.b64encode(hashlib.sha1(key.encode("latin-1") + WS_GUID).digest()).decode()


def ws_frame(opcode, payload=b""):
    """One unmasked, final server frame."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return head + payload


def derp_frame(ftype, payload=b""):
    return struct.pack("!BI", ftype, len(payload)) + payload


class Server:
    def __init__(self, args):
        self.args = args
        seed = args.derp_key_seed
        self.derp_key = hashlib.sha256(("derp-key:" + seed).encode()).digest() if seed else os.urandom(32)
        self.bin_body = hashlib.sha256(b"coder-linux-binary").digest() * (BIN_BODY_SIZE // 32)
        self.bin_etag = '"%s"' % hashlib.sha1(self.bin_body).hexdigest()
        self.connections = 0
        self.log_file = open(args.log, "a", buffering=1) if args.log else sys.stderr

    # ---- logging ----------------------------------------------------------------------------
    def log(self, peer, local, req, status, note=""):
        line = "%s %s %s \"%s %s %s\" %s%s" % (
            time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()), local, peer,
            req.method if req else "-", req.target if req else "-", req.version if req else "-",
            status, (" " + note) if note else "")
        try:
            self.log_file.write(line + "\n")
        except OSError:
            pass

    # ---- plain responses --------------------------------------------------------------------
    def response(self, status, headers=None, body=b"", req=None, identity=True, close=False,
                 content_length=None):
        hdrs = dict(headers or {})
        if identity:
            hdrs["X-Coder-Build-Version"] = self.args.version
        if close:
            hdrs["Connection"] = "close"
        out = ["HTTP/1.1 %d %s" % (status, http.HTTPStatus(status).phrase)]
        for k in sorted(hdrs):  # Go writes the handler's headers sorted
            out.append("%s: %s" % (k, hdrs[k]))
        if status >= 200 and status not in (204, 304):
            out.append("Content-Length: %d" % (len(body) if content_length is None else content_length))
        out.append("Date: " + formatdate(usegmt=True))
        data = ("\r\n".join(out) + "\r\n\r\n").encode("latin-1")
        if req is None or req.method != "HEAD":
            data += body
        return data

    def json_response(self, status, obj, req, close):
        body = (json.dumps(obj, separators=(",", ":")) + "\n").encode()
        return self.response(status, {"Content-Type": "application/json; charset=utf-8"}, body, req,
                             close=close)

    def error(self, status, message, req, close, detail=""):
        obj = {"message": message}
        if detail:
            obj["detail"] = detail
        return self.json_response(status, obj, req, close)

    def text_error(self, status, text, req, close, extra=None, identity=True):  # Go's http.Error
        headers = {"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"}
        headers.update(extra or {})
        return self.response(status, headers, (text + "\n").encode(), req, identity=identity, close=close)

    # ---- connection loop --------------------------------------------------------------------
    async def handle(self, reader, writer):
        peername = writer.get_extra_info("peername") or ("?", 0)
        sockname = writer.get_extra_info("sockname") or ("?", 0)
        peer = "%s:%s" % peername[:2]
        local = "%s:%s" % sockname[:2]
        if self.connections >= self.args.max_connections:
            self.log(peer, local, None, "-", "over --max-connections, closed")
            writer.close()
            return
        self.connections += 1
        try:
            await self.serve_connection(reader, writer, peer, local)
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            pass
        finally:
            self.connections -= 1
            try:
                writer.close()
                await writer.wait_closed()
            except (ConnectionError, OSError):
                pass

    async def serve_connection(self, reader, writer, peer, local):
        while True:
            try:
                raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.args.idle_timeout)
            except asyncio.IncompleteReadError:
                return  # closed between requests (or mid-head)
            except asyncio.TimeoutError:
                return  # idle (or a head trickling in) for --idle-timeout: close, as Go's IdleTimeout
            except asyncio.LimitOverrunError:
                writer.write(self.text_error(431, "431 Request Header Fields Too Large", None, True,
                                             identity=False))
                await writer.drain()
                self.log(peer, local, None, 431, "head over 16 KiB")
                return
            if len(raw) > MAX_HEAD:
                writer.write(self.text_error(431, "431 Request Header Fields Too Large", None, True,
                                             identity=False))
                await writer.drain()
                self.log(peer, local, None, 431, "head over 16 KiB")
                return
            try:
                req = parse_head(raw[:-4])
            except BadRequest:
                writer.write(self.text_error(400, "400 Bad Request", None, True, identity=False))
                await writer.drain()
                self.log(peer, local, None, 400, "malformed request")
                return
            length = req.header("content-length")
            if length:
                if not length.isdigit() or int(length) > MAX_BODY:
                    writer.write(self.text_error(400, "400 Bad Request", req, True, identity=False))
                    await writer.drain()
                    self.log(peer, local, req, 400, "bad Content-Length")
                    return
                req.body = await reader.readexactly(int(length))
            keep = req.keep_alive()
            result = self.route(req, keep)
            if isinstance(result, bytes):
                writer.write(result)
                await writer.drain()
                status = result[9:12].decode()
                self.log(peer, local, req, status)
                if not keep:
                    return
                continue
            # an upgrade: result is a coroutine function taking (reader, writer, log)
            await result(reader, writer, lambda status, note="": self.log(peer, local, req, status, note))
            return

    # ---- routes -----------------------------------------------------------------------------
    def route(self, req, keep):
        close = not keep
        path, method = req.path, req.method
        if path == "/__sandbox":
            return self.response(200, {"Content-Type": "text/plain; charset=utf-8"},
                                 ("sandbox %s coderd-standin pid %d\n" % (self.args.role, os.getpid())).encode(),
                                 req, identity=False, close=close)
        if path.startswith("/api/v2/") and path != "/api/v2/workspaceagents/me/rpc":
            fixture = self.api_fixture()
            if fixture is not None and "__error__" not in fixture:
                user, refusal = self.authenticate(req, close, fixture)
                answer = refusal if user is None else TemplateApi(self, self.args.api_fixture).route(
                    req, close, fixture, user)
                if answer is not None and (user is not None or self.is_template_route(req)):
                    return answer
        if method not in ("GET", "HEAD"):
            if path.startswith("/api/v2/"):
                return self.error(401, SIGNED_OUT, req, close,
                                  'Cookie "%s" or query parameter must be provided.' % TOKEN_COOKIE)
            return self.error(404, "Route not found.", req, close)
        if path in ("/healthz", "/api/v2/buildinfo") and self.args.status != 200:
            code = self.args.status
            return self.response(code, {"Content-Type": "text/plain; charset=utf-8"},
                                 ("%d %s\n" % (code, http.HTTPStatus(code).phrase)).encode(), req,
                                 identity=False, close=close)
        if path == "/healthz":
            return self.response(200, {"Content-Type": "text/plain; charset=utf-8"}, b"OK", req, close=close)
        if path == "/api/v2/buildinfo":
            return self.json_response(200, {
                "external_url": "https://github.com/coder/coder/commit/0000000",
                "version": self.args.version,
                "dashboard_url": self.args.access_url,
                "workspace_proxy": False,
                "agent_api_version": "2.2",
                "provisioner_api_version": "1.1",
                "upgrade_message": "",
                "deployment_id": self.args.deployment_id,
                "webpush_public_key": "",
                "telemetry": False,
            }, req, close)
        if path in ("/derp/latency-check", "/latency-check"):
            return self.response(200, {}, b"", req, close=close)
        if path in ("/derp", "/derp/"):
            return self.derp(req, close)
        if path == "/api/v2/derp-map":
            return self.derp_map(req, close)
        if path == "/api/v2/workspaceagents/me/rpc":
            return self.agent_rpc(req, close)
        if path in ("/api/v2/users/me", "/api/v2/workspaces", "/api/v2/debug/health"):
            fixture = self.api_fixture()
            if fixture is not None:
                return self.coder_api(req, close, fixture)
        if path.startswith("/api/v2/") or path == "/api/v2":
            return self.error(401, SIGNED_OUT, req, close,
                              'Cookie "%s" or query parameter must be provided.' % TOKEN_COOKIE)
        if path.startswith("/bin/"):
            return self.binary(req, close)
        return self.error(404, "Route not found.", req, close)

    @staticmethod
    def session_token(req):  # httpmw.APITokenFromRequest: header, query, cookie
        token = req.header("coder-session-token")
        if not token:
            token = (req.query.get(TOKEN_COOKIE) or [""])[0]
        if not token:
            for part in req.header("cookie").split(";"):
                name, _, value = part.strip().partition("=")
                if name == TOKEN_COOKIE:
                    token = value
        return token

    # ---- the owner-token API (--api-fixture) ----------------------------------------------------
    def api_fixture(self):
        path = self.args.api_fixture
        if not path or not os.path.isfile(path):
            return None
        if os.path.getsize(path) > MAX_FIXTURE:
            return {"__error__": "fixture larger than %d bytes" % MAX_FIXTURE}
        with open(path, encoding="utf-8") as f:
            return json.load(f)

    def authenticate(self, req, close, fixture):
        """(user, None) for a token in the fixture, else (None, the 401 coderd answers)."""
        token = self.session_token(req)
        if not token:
            return None, self.error(401, SIGNED_OUT, req, close,
                                    'Cookie "%s" or query parameter must be provided.' % TOKEN_COOKIE)
        key_id, _, secret = token.partition("-")
        if not secret or len(key_id) != 10 or len(secret) != 22:
            problem = ("incorrect amount of API key parts" if not secret else
                       "invalid API key id length" if len(key_id) != 10 else "invalid API key secret length")
            return None, self.error(401, SIGNED_OUT, req, close, "Invalid API key format: " + problem)
        user = fixture.get("tokens", {}).get(token)
        if user is None:
            return None, self.error(401, SIGNED_OUT, req, close, "API key is invalid.")
        return user, None

    @staticmethod
    def is_template_route(req):
        """A route of the writable API (its 401s are answered before the read-only routes')."""
        return (req.path in ("/api/v2/files", "/api/v2/users/me/organizations")
                or re.match(r"/api/v2/(organizations|templates|templateversions)/", req.path) is not None
                or re.fullmatch(r"/api/v2/workspaces/[0-9a-f-]{36}(/builds)?", req.path) is not None)

    def coder_api(self, req, close, fixture):
        if "__error__" in fixture:
            return self.error(500, "Internal error.", req, close, fixture["__error__"])
        user, refusal = self.authenticate(req, close, fixture)
        if user is None:
            return refusal
        roles = user.get("roles", [])
        if req.path == "/api/v2/users/me":
            return self.json_response(200, {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, "user:" + user["username"])),
                "username": user["username"], "name": "", "email": user["username"] + "@example.test",
                "status": "active", "login_type": "password", "created_at": "2026-01-01T00:00:00Z",
                "roles": [{"name": r, "display_name": r.title()} for r in roles],
                "organization_ids": [], "theme_preference": ""}, req, close)
        if req.path == "/api/v2/debug/health":
            if "owner" not in roles:
                return self.error(403, "Forbidden.", req, close)
            return self.json_response(200, fixture.get("health", {}), req, close)
        rows = [TemplateApi.build_view(w, fixture) for w in fixture.get("workspaces", [])]
        if "owner" not in roles and "auditor" not in roles:
            rows = [w for w in rows if w.get("owner_name") == user["username"]]
        try:
            offset = int((req.query.get("offset") or ["0"])[0])
            limit = int((req.query.get("limit") or ["0"])[0])
        except ValueError:
            return self.error(400, "Query parameters have invalid values.", req, close)
        size = len(rows) if limit <= 0 else limit
        if fixture.get("page_size"):
            size = min(size, int(fixture["page_size"]))
        return self.json_response(200, {"workspaces": rows[offset:offset + size], "count": len(rows)}, req, close)

    def agent_rpc(self, req, close):
        token = self.session_token(req)
        if not token:
            return self.error(401, 'Cookie "%s" must be provided.' % TOKEN_COOKIE, req, close)
        try:
            uuid.UUID(token)
        except ValueError:
            return self.error(401, "Workspace agent token invalid.", req, close,
                              "An agent token must be a valid UUIDv4. (len %d)" % len(token))
        return self.error(401, "Workspace agent not authorized.", req, close,
                          "The agent cannot authenticate until the workspace provision job has been "
                          "completed. If the job is no longer running, this agent is invalid.")

    def binary(self, req, close):
        if self.args.slim or req.path not in ("/bin/coder-linux-amd64", "/bin/coder-linux-arm64"):
            return self.text_error(404, "404 page not found", req, close)
        body = self.bin_body
        headers = {"Content-Type": "application/octet-stream", "Accept-Ranges": "bytes",
                   "Etag": self.bin_etag, "X-Original-Content-Length": str(len(body)),
                   "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"}
        m = re.fullmatch(r"bytes=(\d*)-(\d*)", req.header("range"))
        if m and (m.group(1) or m.group(2)):
            if m.group(1):
                start = int(m.group(1))
                end = int(m.group(2)) if m.group(2) else len(body) - 1
            else:
                start, end = max(0, len(body) - int(m.group(2))), len(body) - 1
            end = min(end, len(body) - 1)
            if start > end:
                headers["Content-Range"] = "bytes */%d" % len(body)
                return self.text_error(416, "invalid range: failed to overlap", req, close, headers)
            headers["Content-Range"] = "bytes %d-%d/%d" % (start, end, len(body))
            return self.response(206, headers, body[start:end + 1], req, close=close)
        return self.response(200, headers, body, req, close=close)

    # ---- WebSocket handshake (nhooyr.io/websocket's Accept) ---------------------------------
    def ws_check(self, req, close):
        """None if REQ is a valid WebSocket upgrade, else the error answer as Accept writes it."""
        if not req.has_token("connection", "upgrade"):
            return self.text_error(426, "WebSocket protocol violation: Connection header %s does not contain Upgrade"
                                   % json.dumps(req.header("connection")), req, close,
                                   {"Connection": "Upgrade", "Upgrade": "websocket"})
        if not req.has_token("upgrade", "websocket"):
            return self.text_error(426, "WebSocket protocol violation: Upgrade header %s does not contain websocket"
                                   % json.dumps(req.header("upgrade")), req, close,
                                   {"Connection": "Upgrade", "Upgrade": "websocket"})
        if req.method != "GET":
            return self.text_error(405, "WebSocket protocol violation: handshake request method is not GET but %s"
                                   % json.dumps(req.method), req, close)
        if req.header("sec-websocket-version") != "13":
            return self.text_error(400, "unsupported WebSocket protocol version (only 13 is supported): %s"
                                   % json.dumps(req.header("sec-websocket-version")), req, close,
                                   {"Sec-Websocket-Version": "13"})
        key = req.header("sec-websocket-key")
        if not key:
            return self.text_error(400, "WebSocket protocol violation: missing Sec-WebSocket-Key", req, close)
        try:
            if len(base64.b64decode(key, validate=True)) != 16:
                raise ValueError
        except ValueError:
            return self.text_error(400, "WebSocket protocol violation: invalid Sec-WebSocket-Key %s"
                                   % json.dumps(key), req, close)
        return None

    def ws_101(self, req, subprotocol):
        headers = {"Connection": "Upgrade", "Upgrade": "websocket",
                   "Sec-Websocket-Accept": ws_accept(req.header("sec-websocket-key")),
                   "X-Coder-Build-Version": self.args.version}
        if subprotocol:
            headers["Sec-Websocket-Protocol"] = subprotocol
        lines = ["HTTP/1.1 101 Switching Protocols"] + ["%s: %s" % (k, headers[k]) for k in sorted(headers)]
        lines.append("Date: " + formatdate(usegmt=True))
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    # ---- /derp --------------------------------------------------------------------------------
    def derp(self, req, close):
        up = req.header("upgrade").lower()
        protocols = [p.strip() for p in req.header("sec-websocket-protocol").split(",")]
        if up == "websocket" and "derp" in protocols:
            bad = self.ws_check(req, close)
            if bad:
                return bad
            return self.derp_over_ws(req)
        if up == "derp":
            return self.derp_raw(req)
        return self.text_error(426, "DERP requires connection upgrade", req, close)

    def server_key_frame(self):
        return derp_frame(FRAME_SERVER_KEY, DERP_MAGIC + self.derp_key)

    def derp_raw(self, req):
        async def run(reader, writer, log):
            if req.header("derp-fast-start") != "1":
                writer.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: DERP\r\nConnection: Upgrade\r\n"
                              "Derp-Version: 2\r\nDerp-Public-Key: %s\r\n\r\n" % self.derp_key.hex()).encode())
            writer.write(self.server_key_frame())
            await writer.drain()
            log(101, "derp")
            started = time.monotonic()

            async def keepalive():
                while True:
                    await asyncio.sleep(self.args.derp_keepalive)
                    writer.write(derp_frame(FRAME_KEEPALIVE))
                    await writer.drain()

            task = asyncio.create_task(keepalive())
            try:
                while await reader.read(65536):  # DERP frames from the client: read and dropped
                    pass
            finally:
                task.cancel()
                log("-", "derp closed after %.1f s" % (time.monotonic() - started))
        return run

    def derp_over_ws(self, req):
        async def run(reader, writer, log):
            writer.write(self.ws_101(req, "derp"))
            writer.write(ws_frame(0x2, self.server_key_frame()))
            await writer.drain()
            log(101, "websocket derp")

            async def keepalive():
                while True:
                    await asyncio.sleep(self.args.derp_keepalive)
                    writer.write(ws_frame(0x2, derp_frame(FRAME_KEEPALIVE)))
                    await writer.drain()

            await self.ws_session(reader, writer, log, keepalive)
        return run

    # ---- /api/v2/derp-map ---------------------------------------------------------------------
    def derp_map_json(self):
        u = urllib.parse.urlsplit(self.args.access_url)
        port = u.port or (443 if u.scheme == "https" else 80)
        node = {"Name": "999b", "RegionID": 999, "HostName": u.hostname, "STUNPort": -1,
                "DERPPort": port, "ForceHTTP": u.scheme == "http"}
        region = {"EmbeddedRelay": True, "RegionID": 999, "RegionCode": "coder",
                  "RegionName": "Coder Embedded Relay", "Nodes": [node]}
        return {"HomeParams": None, "Regions": {"999": region}, "OmitDefaultRegions": True}

    def derp_map(self, req, close):
        bad = self.ws_check(req, close)
        if bad:
            return bad

        async def run(reader, writer, log):
            protocols = [p.strip() for p in req.header("sec-websocket-protocol").split(",") if p.strip()]
            # nhooyr's Accept with no Subprotocols option selects none
            writer.write(self.ws_101(req, None))
            writer.write(ws_frame(0x2, (json.dumps(self.derp_map_json(), separators=(",", ":")) + "\n").encode()))
            await writer.drain()
            log(101, "websocket derp-map" + (" (offered %s, none selected)" % ",".join(protocols) if protocols else ""))

            async def pinger():
                n = 0
                while True:
                    await asyncio.sleep(WS_PING_SECONDS)
                    n += 1
                    writer.write(ws_frame(0x9, str(n).encode()))
                    await writer.drain()

            await self.ws_session(reader, writer, log, pinger)
        return run

    # ---- WebSocket session: client frames, pings, close ---------------------------------------
    async def ws_session(self, reader, writer, log, background):
        started = time.monotonic()
        task = asyncio.create_task(background())
        how = "client went away"
        try:
            while True:
                b0, b1 = await reader.readexactly(2)
                opcode, masked, n = b0 & 0x0F, b1 & 0x80, b1 & 0x7F
                if n == 126:
                    n = struct.unpack("!H", await reader.readexactly(2))[0]
                elif n == 127:
                    n = struct.unpack("!Q", await reader.readexactly(8))[0]
                if not masked:
                    writer.write(ws_frame(0x8, struct.pack("!H", 1002) + b"unmasked client frame"))
                    how = "unmasked client frame"
                    break
                if n > MAX_WS_PAYLOAD:
                    writer.write(ws_frame(0x8, struct.pack("!H", 1009) + b"frame too large"))
                    how = "oversized client frame"
                    break
                mask = await reader.readexactly(4)
                data = await reader.readexactly(n)
                payload = bytes(c ^ mask[i % 4] for i, c in enumerate(data))
                if opcode == 0x9:
                    writer.write(ws_frame(0xA, payload[:125]))
                    await writer.drain()
                elif opcode == 0x8:
                    writer.write(ws_frame(0x8, payload[:2]))
                    await writer.drain()
                    how = "client close %d" % (struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005)
                    break
                # text, binary, continuation, pong: read and dropped (DERP client frames too)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            task.cancel()
            log("-", "websocket closed after %.1f s (%s)" % (time.monotonic() - started, how))
        try:
            await writer.drain()
        except (ConnectionError, OSError):
            pass


def parse_listen(value):
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("expected IP:PORT, got %r" % value)
    return host.strip("[]"), int(port)


async def amain(args):
    server = Server(args)
    servers = []
    for host, port in args.listen:
        try:
            servers.append(await asyncio.start_server(server.handle, host, port, limit=MAX_HEAD,
                                                      reuse_address=True, backlog=128))
        except OSError as e:
            sys.exit("coderd_standin.py: cannot listen on %s:%d: %s" % (host, port, e))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if args.pidfile:
        tmp = args.pidfile + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % os.getpid())
        os.replace(tmp, args.pidfile)
    await stop.wait()
    if args.pidfile:
        try:
            os.unlink(args.pidfile)
        except FileNotFoundError:
            pass
    os._exit(0)  # held connections need no goodbye


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", required=True, action="append", type=parse_listen, metavar="IP:PORT")
    ap.add_argument("--pidfile")
    ap.add_argument("--log", help="append one line per request here (default stderr)")
    ap.add_argument("--version", default="v2.18.0-sandbox")
    ap.add_argument("--deployment-id", default="dep-sandbox-1")
    ap.add_argument("--access-url", default="https://coder.example.test:18443")
    ap.add_argument("--derp-keepalive", type=float, default=60.0, metavar="SECONDS")
    ap.add_argument("--derp-key-seed", default="", help="derive the DERP key from this (default random)")
    ap.add_argument("--status", type=int, default=200, help="/healthz and /api/v2/buildinfo status")
    ap.add_argument("--slim", action="store_true", help="no bundled binaries: /bin/* is 404")
    ap.add_argument("--role", default="coderd", help="named in /__sandbox answers")
    ap.add_argument("--api-fixture", default="", metavar="FILE",
                    help="serve the owner-token API (users/me, workspaces, debug/health) from this JSON")
    ap.add_argument("--max-connections", type=int, default=256)
    ap.add_argument("--idle-timeout", type=float, default=120.0, metavar="SECONDS",
                    help="close a connection that sends no complete request head for this long")
    args = ap.parse_args()
    if args.status < 100 or args.status > 599:
        ap.error("--status must be an HTTP status code")
    asyncio.run(amain(args))


if __name__ == "__main__":
    main()
