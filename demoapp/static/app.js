// The demo web app: a public OAuth 2.0 client using the authorization code
// grant with PKCE (RFC 7636, method S256) or, when the server configures
// it, the legacy implicit grant (RFC 6749 section 4.2). Step numbers refer
// to the project's login flow.
"use strict";

// Key of the sessionStorage entry (state and PKCE verifier) that must
// survive the redirect to the authorization server and back. The callback
// removes it as soon as it reads it.
const PENDING_KEY = "webapp_pending_login";

// Key of the sessionStorage entry (the state of a logout request) that
// must survive the round trip to the authorization server's logout page.
const PENDING_LOGOUT_KEY = "webapp_pending_logout";

// The access token lives in this variable only: never in storage, so a
// reload, another tab or an injected script reading storage cannot find it.
let accessToken = null;
// The ID token from 14c (scope openid), kept the same way. It serves only
// as the id_token_hint of a logout request.
let idToken = null;
let config = null;

function $(id) {
  return document.getElementById(id);
}

function logStep(step, text) {
  const li = document.createElement("li");
  li.textContent = step + ": " + text;
  $("steps").appendChild(li);
}

function show(sectionID) {
  for (const id of ["signed-out", "signed-in", "error"]) {
    $(id).hidden = id !== sectionID;
  }
}

function showError(code, description) {
  $("error-code").textContent = code;
  $("error-description").textContent = description || "";
  show("error");
}

// randomString returns 32 random bytes as unpadded base64url: 43
// characters, valid as a PKCE code verifier (RFC 7636 section 4.1).
function randomString() {
  const bytes = new Uint8Array(32);
  crypto.getRandomValues(bytes);
  return base64url(bytes);
}

function base64url(bytes) {
  let binary = "";
  for (const b of bytes) {
    binary += String.fromCharCode(b);
  }
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// s256 returns BASE64URL(SHA256(verifier)), the S256 code challenge.
async function s256(verifier) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

async function loadConfig() {
  const resp = await fetch("/config.json");
  if (!resp.ok) {
    throw new Error("loading /config.json failed with HTTP " + resp.status);
  }
  return resp.json();
}

// Step 2a: build the authorization request and navigate to it.
async function login() {
  if (!window.isSecureContext || !crypto.subtle) {
    showError("insecure_context",
      "PKCE needs crypto.subtle, which browsers offer only on https, localhost and 127.0.0.1.");
    return;
  }
  const state = randomString();
  const params = new URLSearchParams({
    response_type: config.response_type,
    client_id: config.client_id,
    redirect_uri: config.redirect_uri,
    scope: config.scope,
    state: state,
  });
  let verifier = null;
  if (config.response_type === "code") {
    verifier = randomString();
    params.set("code_challenge", await s256(verifier));
    params.set("code_challenge_method", "S256");
  }
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ state, verifier }));

  const url = new URL(config.authorization_endpoint);
  url.search = params.toString();
  window.location.assign(url.toString());
}

// Steps 14b and 14c: read the callback URL, check state, redeem the code
// (or, with the implicit grant, take the token from the fragment).
async function handleCallback() {
  // The implicit grant returns its response in the fragment (RFC 6749 section 4.2.2),
  // which the browser never sends to the app server.
  const implicit = config.response_type === "token";
  const params = new URLSearchParams(implicit ? window.location.hash.slice(1) : window.location.search);
  // Remove code, token and state from the address bar and history at once.
  window.history.replaceState(null, "", "/");

  const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) || "null");
  sessionStorage.removeItem(PENDING_KEY);

  // RFC 6749 section 10.12: the state must match the one this browser sent,
  // or the response may belong to an attacker's login.
  if (!pending || !params.get("state") || params.get("state") !== pending.state) {
    showError("invalid_state", "The callback's state does not match the login this page started.");
    return;
  }
  if (params.get("error")) {
    showError(params.get("error"), params.get("error_description"));
    return;
  }
  if (implicit) {
    if (!params.get("access_token")) {
      showError("invalid_request", "The callback carries neither a token nor an error.");
      return;
    }
    accessToken = params.get("access_token");
    logStep("14b", "took the access token from the URL fragment (implicit grant); state matches");
    await callAPI();
    return;
  }
  const code = params.get("code");
  if (!code) {
    showError("invalid_request", "The callback carries neither a code nor an error.");
    return;
  }
  logStep("14b", "took the authorization code from the callback URL; state matches");

  const resp = await fetch(config.token_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: code,
      redirect_uri: config.redirect_uri,
      client_id: config.client_id,
      code_verifier: pending.verifier,
    }),
  });
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok || !body.access_token) {
    showError(body.error || "token_request_failed", body.error_description || "HTTP " + resp.status);
    return;
  }
  accessToken = body.access_token;
  idToken = body.id_token || null;
  logStep("14c", "redeemed the code with the PKCE verifier; got an access token" +
    (idToken ? " and an ID token" : "") + " (kept in memory)");
  await callAPI();
}

// Step 15: call the API through the gateway with the bearer token.
async function callAPI() {
  const resp = await fetch(config.api_url, {
    headers: { Authorization: "Bearer " + accessToken },
  });
  const text = await resp.text();
  if (!resp.ok) {
    const challenge = resp.headers.get("WWW-Authenticate") || "";
    showError("api_error", "The API returned HTTP " + resp.status + " " + challenge);
    return;
  }
  const user = JSON.parse(text);
  logStep("15", "called " + config.api_url + " through the gateway");
  $("user-name").textContent = user.name || user.sub;
  $("user-email").textContent = user.email || "";
  $("user-sub").textContent = user.sub || "";
  $("user-scope").textContent = user.scope || "";
  $("api-response").textContent = JSON.stringify(user, null, 2);
  show("signed-in");
}

// Log out at the authorization server (OpenID Connect RP-Initiated
// Logout 1.0): it ends its session for this browser, revokes the tokens
// issued under it, and sends the browser back to the start page. With the
// ID token as hint it does so at once. Without one, the user confirms on
// the authorization server's page first.
function logout() {
  const state = randomString();
  const params = new URLSearchParams({
    client_id: config.client_id,
    post_logout_redirect_uri: config.post_logout_redirect_uri,
    state: state,
  });
  if (idToken) {
    params.set("id_token_hint", idToken);
  }
  sessionStorage.setItem(PENDING_LOGOUT_KEY, state);
  forgetTokens();
  const url = new URL(config.end_session_endpoint);
  url.search = params.toString();
  window.location.assign(url.toString());
}

// forgetTokens drops the tokens from memory. The authorization server's
// session stays, so the next "Log in" skips its login page.
function forgetTokens() {
  accessToken = null;
  idToken = null;
  $("steps").replaceChildren();
  $("logged-out").hidden = true;
  show("signed-out");
}

// handleLogoutReturn shows whether the start page was reached back from
// the logout this page started: the state must be the one it sent.
function handleLogoutReturn() {
  const params = new URLSearchParams(window.location.search);
  const pending = sessionStorage.getItem(PENDING_LOGOUT_KEY);
  sessionStorage.removeItem(PENDING_LOGOUT_KEY);
  if (!params.has("state")) {
    return;
  }
  window.history.replaceState(null, "", "/");
  if (pending && params.get("state") === pending) {
    $("logged-out").hidden = false;
  }
}

async function main() {
  config = await loadConfig();
  $("login").addEventListener("click", () => login().catch(e => showError("client_error", e.message)));
  $("retry").addEventListener("click", () => login().catch(e => showError("client_error", e.message)));
  $("call-api").addEventListener("click", () => callAPI().catch(e => showError("client_error", e.message)));
  $("logout").addEventListener("click", () => {
    try {
      logout();
    } catch (e) {
      showError("client_error", e.message);
    }
  });
  $("forget").addEventListener("click", forgetTokens);

  if (window.location.pathname === "/callback") {
    await handleCallback();
    return;
  }
  handleLogoutReturn();
  show("signed-out");
}

main().catch(e => showError("client_error", e.message));
