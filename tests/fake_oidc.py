"""A real OpenID Connect provider on 127.0.0.1, for the sign-on tests (and GitHub's OAuth 2.0 flavour).

It speaks what a relying party meets at a real provider:
- `GET /.well-known/openid-configuration` (discovery) and `GET /jwks` (the RS256 public key);
- `GET /authorize`: checks client_id, redirect_uri, response_type=code and a PKCE S256 challenge, then
  auto-approves `fake.user` and redirects back with `code` and `state` (or `error=access_denied` when
  `fake.deny` is set);
- `POST /token`: checks the client's credentials, the redirect_uri and the PKCE `code_verifier` against the
  challenge, uses each code once, and answers an access token and an ID token signed with joserfc (RS256);
- `GET /userinfo` (Bearer access token).
GitHub: `GET /login/oauth/authorize`, `POST /login/oauth/access_token`, `GET /api/user`, `GET /api/user/emails`.

Faults (`fake.fault`), applied to the next ID tokens: bad_signature (signed with another key under the
published kid), wrong_audience, expired, wrong_nonce, wrong_issuer, no_nonce. The user's claims are
`fake.user` (sub, email, email_verified, name, and e.g. groups), read when the code is issued.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.fake_image_providers import FakeImageServer
from tests.fake_providers import Recorded, Reply, json_reply

KID = "fake-key-1"


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _at_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


class FakeOIDC(FakeImageServer):
    def __init__(self, *, client_id: str = "atelier-test", client_secret: str = "test-secret") -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.key = RSAKey.generate_key(2048, parameters={"kid": KID, "use": "sig", "alg": "RS256"})
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": KID, "use": "sig", "alg": "RS256"})
        self.user: dict[str, Any] = {"sub": "user-1", "email": "alice@corp.example", "email_verified": True,
                                     "name": "Alice Example"}
        self.github_emails: list[dict[str, Any]] | None = None  # None: the user's email, primary and verified
        self.fault = ""
        self.deny = False
        self.issued_codes: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, dict[str, Any]] = {}
        self.refused: list[str] = []  # why /token refused, for assertions

    @property
    def issuer(self) -> str:
        return self.origin

    @property
    def discovery_url(self) -> str:
        return self.origin + "/.well-known/openid-configuration"

    def env(self, name: str = "testidp", **extra: str) -> dict[str, str]:
        """Settings for an Atelier that uses this provider as `name`."""
        prefix = f"SSO_{name.upper()}_"
        values = {"SSO_PROVIDERS": name, prefix + "CLIENT_ID": self.client_id,
                  prefix + "CLIENT_SECRET": self.client_secret, prefix + "DISCOVERY_URL": self.discovery_url,
                  prefix + "LABEL": "Test IdP"}
        values.update({prefix + k: v for k, v in extra.items()})
        return values

    def github_env(self, name: str = "github") -> dict[str, str]:
        prefix = f"SSO_{name.upper()}_"
        return {prefix + "KIND": "github", prefix + "CLIENT_ID": self.client_id,
                prefix + "CLIENT_SECRET": self.client_secret,
                prefix + "AUTHORIZE_URL": self.origin + "/login/oauth/authorize",
                prefix + "TOKEN_URL": self.origin + "/login/oauth/access_token",
                prefix + "API_URL": self.origin + "/api"}

    # --- the endpoints -------------------------------------------------------------------------------------

    def respond(self, request: Recorded, mode: str) -> Reply:
        route = (request.method, request.path)
        if route == ("GET", "/.well-known/openid-configuration"):
            return json_reply(200, self._discovery())
        if route == ("GET", "/jwks"):
            return json_reply(200, {"keys": [self.key.as_dict(private=False)]})
        if route in (("GET", "/authorize"), ("GET", "/login/oauth/authorize")):
            return self._authorize(request, github=request.path.startswith("/login"))
        if route in (("POST", "/token"), ("POST", "/login/oauth/access_token")):
            return self._token(request, github=request.path.startswith("/login"))
        if route == ("GET", "/userinfo"):
            grant = self._bearer(request)
            return json_reply(200, grant["user"]) if grant else json_reply(401, {"error": "invalid_token"})
        if route == ("GET", "/api/user"):
            grant = self._bearer(request)
            if not grant:
                return json_reply(401, {"message": "Bad credentials"})
            user = grant["user"]
            return json_reply(200, {"id": int(user["sub"]) if str(user["sub"]).isdigit() else 4242,
                                    "login": user.get("login", "octo"), "name": user.get("name")})
        if route == ("GET", "/api/user/emails"):
            grant = self._bearer(request)
            if not grant:
                return json_reply(401, {"message": "Bad credentials"})
            emails = self.github_emails if self.github_emails is not None else [
                {"email": grant["user"]["email"], "primary": True, "verified": True, "visibility": "private"}]
            return json_reply(200, emails)
        return json_reply(404, {"error": "not_found"})

    def _discovery(self) -> dict[str, Any]:
        return {"issuer": self.issuer, "authorization_endpoint": self.origin + "/authorize",
                "token_endpoint": self.origin + "/token", "userinfo_endpoint": self.origin + "/userinfo",
                "jwks_uri": self.origin + "/jwks", "response_types_supported": ["code"],
                "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"]}

    def _authorize(self, request: Recorded, *, github: bool) -> Reply:
        q = {k: v[0] for k, v in request.query.items()}
        redirect = q.get("redirect_uri", "")
        if q.get("client_id") != self.client_id or not redirect.startswith("http"):
            return 400, {"Content-Type": "text/plain"}, b"unknown client or redirect_uri"
        if q.get("response_type") != "code" or q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return 400, {"Content-Type": "text/plain"}, b"authorization code with PKCE S256 only"
        if not github and "openid" not in q.get("scope", "").split():
            return 400, {"Content-Type": "text/plain"}, b"scope must include openid"
        if self.deny:
            back = {"error": "access_denied", "error_description": "The user said no", "state": q.get("state", "")}
        else:
            code = secrets.token_urlsafe(16)
            self.issued_codes[code] = {"challenge": q["code_challenge"], "redirect_uri": redirect,
                                       "nonce": q.get("nonce"), "user": dict(self.user), "used": False}
            back = {"code": code, "state": q.get("state", "")}
        return 302, {"Location": f"{redirect}?{urlencode(back)}"}, b""

    def _refuse(self, why: str, *, status: int = 400) -> Reply:
        self.refused.append(why)
        return json_reply(status, {"error": "invalid_grant", "error_description": why})

    def _token(self, request: Recorded, *, github: bool) -> Reply:
        form = {k: v[0] for k, v in parse_qs(request.raw.decode()).items()}
        client_id, secret = form.get("client_id"), form.get("client_secret")
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        if client_id != self.client_id or secret != self.client_secret:
            return self._refuse("client authentication failed", status=401)
        if form.get("grant_type") != "authorization_code":
            return self._refuse("grant_type")
        grant = self.issued_codes.get(form.get("code", ""))
        if grant is None or grant["used"]:
            return self._refuse("code unknown or used")
        grant["used"] = True
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return self._refuse("redirect_uri differs")
        if _s256(form.get("code_verifier", "")) != grant["challenge"]:
            return self._refuse("PKCE code_verifier does not match the challenge")
        access = secrets.token_urlsafe(24)
        self.tokens[access] = grant
        answer: dict[str, Any] = {"access_token": access, "token_type": "Bearer", "expires_in": 3600,
                                  "scope": "openid email profile"}
        if not github:
            answer["id_token"] = self.id_token(grant, access)
        return json_reply(200, answer)

    def id_token(self, grant: dict[str, Any], access_token: str) -> str:
        now = int(time.time())
        claims = {**grant["user"], "iss": self.issuer, "aud": self.client_id, "iat": now, "exp": now + 300,
                  "nonce": grant["nonce"], "at_hash": _at_hash(access_token)}
        key = self.key
        if self.fault == "bad_signature":
            key = self.other_key
        elif self.fault == "wrong_audience":
            claims["aud"] = "someone-else"
        elif self.fault == "expired":
            claims["iat"], claims["exp"] = now - 7200, now - 3600
        elif self.fault == "wrong_nonce":
            claims["nonce"] = "not-the-nonce"
        elif self.fault == "no_nonce":
            claims.pop("nonce")
        elif self.fault == "wrong_issuer":
            claims["iss"] = "https://evil.example"
        return jwt.encode({"alg": "RS256", "kid": KID}, claims, key)

    def _bearer(self, request: Recorded) -> dict[str, Any] | None:
        auth = request.headers.get("authorization", "")
        return self.tokens.get(auth[7:]) if auth.lower().startswith("bearer ") else None


def follow_to_provider(client: Any, start_url: str, fake: FakeOIDC) -> str:
    """Start a sign-in on the app (a test client) and let the fake approve it: the callback URL to open.

    The app's answer is a redirect to the fake's /authorize; this opens it with a real HTTP request and
    returns the app's callback path with code and state.
    """
    import httpx

    started = client.get(start_url, headers={"Accept": "text/html"}, follow_redirects=False)
    assert started.status_code == 303, started.text
    location = started.headers["location"]
    assert location.startswith(fake.origin), location
    approved = httpx.get(location, follow_redirects=False, timeout=5)
    assert approved.status_code == 302, approved.text
    back = urlsplit(approved.headers["location"])
    return f"{back.path}?{back.query}"


def tamper(callback: str, **changes: str) -> str:
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return f"{parts.path}?{urlencode(query)}"


def decode_unverified(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
