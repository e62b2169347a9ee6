"""Drives headless Chromium with a virtual authenticator through the passkey test page.

Used by tests/tests/integration/webauthn_browser.rs. It serves tests/fixtures/webauthn/page.html
and proxies /api/ to barongd from one origin, http://localhost:PORT, because WebAuthn needs a
secure context (localhost is one) and the daemon trusts only the origins it is configured with.

Protocol (one JSON document per line):
  stdout  {"origin": "http://localhost:PORT"}        as soon as the server listens
  stdin   {"upstream": "http://127.0.0.1:N", "email": ..., "password": ...}
  stdout  {"steps": [...], "authenticator": {...}}   what each click answered, what the virtual
                                                     authenticator holds; the Rust test asserts
Exits non-zero (reason on stderr) when the browser cannot be driven (a click never finished).
Environment: BARONG_TEST_CHROMIUM, the browser binary (default /usr/bin/chromium).
"""

import http.client
import http.server
import json
import os
import sys
import threading
import urllib.parse

from playwright.sync_api import sync_playwright

PAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "webauthn", "page.html")
# Hop-by-hop headers (RFC 9110 7.6.1) and those the proxy recomputes are not forwarded.
HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "host",
       "content-length", "accept-encoding"}
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--host-resolver-rules=MAP localhost 127.0.0.1"]
STEP_TIMEOUT_MS = 30_000


class Frontend(http.server.BaseHTTPRequestHandler):
    """The page at /, everything under /api/ forwarded to the daemon (cookies included)."""

    upstream = None  # (host, port), set once the daemon is known

    def log_message(self, *args):  # quiet: the test prints what matters
        pass

    def do_GET(self):
        if self.path.startswith("/api/"):
            return self.forward()
        if self.path.split("?")[0] in ("/", "/index.html"):
            with open(PAGE, "rb") as f:
                body = f.read()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return self.wfile.write(body)
        self.send_error(404)

    do_POST = do_PUT = do_PATCH = do_DELETE = lambda self: self.forward()

    def forward(self):
        if not self.path.startswith("/api/") or Frontend.upstream is None:
            return self.send_error(404)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        conn = http.client.HTTPConnection(*Frontend.upstream, timeout=30)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            self.send_response(resp.status)
            for k, v in resp.getheaders():  # each Set-Cookie kept as its own header
                if k.lower() not in HOP:
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError as e:  # the daemon did not answer: the page sees a gateway error, not a hang
            self.send_error(502, f"upstream: {e}")
        finally:
            conn.close()


def click(page, button):
    """Clicks a page button and returns what its call answered (the page counts finished steps)."""
    out = page.locator("#out")
    before = int(out.get_attribute("data-step"))
    page.click(button)
    page.wait_for_function(f"document.getElementById('out').dataset.step === '{before + 1}'",
                           timeout=STEP_TIMEOUT_MS)
    return json.loads(out.text_content())


def stored_credentials(cdp, authenticator):
    """What the virtual authenticator holds (no private keys in the report)."""
    creds = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    return [{k: c.get(k) for k in ("credentialId", "isResidentCredential", "rpId", "signCount", "userHandle")}
            for c in creds]


def run(origin, job):
    steps = []
    console = []
    with sync_playwright() as p:
        # launch() gives Chromium a new empty profile (a temporary user-data-dir) of its own.
        browser = p.chromium.launch(executable_path=os.environ.get("BARONG_TEST_CHROMIUM", "/usr/bin/chromium"),
                                    headless=True, args=CHROMIUM_FLAGS)
        context = browser.new_context()
        page = context.new_page()
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable")
        authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
            "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
            "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True,
        }})["authenticatorId"]
        page.goto(origin + "/")
        page.fill("#email", job["email"])
        page.fill("#password", job["password"])
        page.fill("#name", job.get("name", "My passkey"))

        def step(name, button):
            steps.append({"step": name, **click(page, button)})

        step("login_password", "#login")
        step("enrol", "#add")
        enrolled = stored_credentials(cdp, authenticator)
        step("logout", "#logout")
        step("me_logged_out", "#me")
        step("login_passkey", "#login")
        step("me", "#me")
        step("list", "#list")
        report = {
            "steps": steps,
            "authenticator": {"after_enrol": enrolled, "after_login": stored_credentials(cdp, authenticator)},
            "secure_context": page.evaluate("window.isSecureContext"),
            "console": console,
        }
        browser.close()
    return report


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Frontend)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://localhost:{server.server_address[1]}"
    print(json.dumps({"origin": origin}), flush=True)
    job = json.loads(sys.stdin.readline())
    up = urllib.parse.urlsplit(job["upstream"])
    Frontend.upstream = (up.hostname, up.port)
    try:
        report = run(origin, job)
    except Exception as e:  # the browser could not be driven: say where, for the test's message
        print(f"browser run failed: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
    finally:
        server.shutdown()
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
