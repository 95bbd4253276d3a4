# SPDX-License-Identifier: LGPL-2.1-or-later
"""A tiny token server for docker-registry's token authentication, for tests.

GET /token?service=S&scope=repository:NAME:ACTIONS[&scope=...] answers
{"token": JWT, "access_token": JWT}. The JWT is RS256-signed with a key the
registry trusts (its certificate goes in the registry's rootcertbundle and in
the token's x5c header). Callers with the right Basic credentials get the
actions they ask for; anonymous callers get pull on repositories whose name
starts with "public/"; wrong credentials get 401. Every request is recorded
in `requests` so tests can check scopes and caching.
"""

import base64
import json
import os
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode()


def make_key_and_cert(directory, cn='cpod-test-token'):
    """A self-signed RSA key and certificate (PEM) in directory; returns (key, cert) paths."""
    key = os.path.join(directory, 'token.key')
    cert = os.path.join(directory, 'token.crt')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
                    '-days', '2', '-subj', '/CN=' + cn], check=True, capture_output=True)
    return key, cert


class TokenServer:
    def __init__(self, key, cert, service, issuer, user, password):
        self.key, self.service, self.issuer = key, service, issuer
        self.user, self.password = user, password
        der = subprocess.run(['openssl', 'x509', '-in', cert, '-outform', 'DER'], check=True,
                             capture_output=True).stdout
        self.x5c = base64.b64encode(der).decode()
        self.requests = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.handle(self)

        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.port = self.httpd.server_address[1]
        self.realm = 'http://127.0.0.1:%d/token' % self.port
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def sign(self, claims):
        header = {'typ': 'JWT', 'alg': 'RS256', 'x5c': [self.x5c]}
        signing_input = (b64url(json.dumps(header).encode()) + '.' + b64url(json.dumps(claims).encode())).encode()
        sig = subprocess.run(['openssl', 'dgst', '-sha256', '-sign', self.key], input=signing_input, check=True,
                             capture_output=True).stdout
        return signing_input.decode() + '.' + b64url(sig)

    def caller(self, handler):
        """'anonymous', the user name, or None for wrong credentials."""
        auth = handler.headers.get('Authorization')
        if not auth:
            return 'anonymous'
        if not auth.startswith('Basic '):
            return None
        try:
            user, _, password = base64.b64decode(auth[6:]).decode().partition(':')
        except ValueError:
            return None
        return user if (user, password) == (self.user, self.password) else None

    def handle(self, h):
        url = urlparse(h.path)
        q = parse_qs(url.query)
        who = self.caller(h)
        self.requests.append({'path': url.path, 'scopes': q.get('scope', []), 'who': who})
        if url.path != '/token' or who is None:
            h.send_response(401 if who is None else 404)
            h.send_header('Content-Type', 'application/json')
            h.end_headers()
            h.wfile.write(b'{"details": "incorrect username or password"}')
            return
        access = []
        for scope in q.get('scope', []):
            parts = scope.split(':')
            if len(parts) != 3 or parts[0] != 'repository':
                continue
            actions = parts[2].split(',')
            if who == 'anonymous':
                actions = [a for a in actions if a == 'pull' and parts[1].startswith('public/')]
            access.append({'type': 'repository', 'name': parts[1], 'actions': actions})
        now = int(time.time())
        token = self.sign({'iss': self.issuer, 'sub': who, 'aud': q.get('service', [''])[0], 'exp': now + 600,
                           'nbf': now - 10, 'iat': now, 'jti': uuid.uuid4().hex, 'access': access})
        body = json.dumps({'token': token, 'access_token': token, 'expires_in': 600}).encode()
        h.send_response(200)
        h.send_header('Content-Type', 'application/json')
        h.send_header('Content-Length', str(len(body)))
        h.end_headers()
        h.wfile.write(body)
