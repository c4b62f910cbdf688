// Signing in, signing in again when the API refuses the token, signing out.
//
// Three ways, chosen by start() in app.js:
//   "link":        the local gateway's one-time link and HttpOnly session
//                  cookie (make run); POST /portal/session gives a token.
//   "oidc":        the portal's OpenID provider, authorization code + PKCE.
//   "credentials": a manager module's Client ID and Client Secret.

import { api, claims, whenSessionLost } from "./api.js";
import { el, field, show, showProblem, announce } from "./ui.js";

export const session = { mode: "credentials", cfg: {} };

// afterSignIn is what to show once signed in (app.js: the view of the URL).
let afterSignIn = () => {};
export function onSignedIn(fn) { afterSignIn = fn; }

export function signedIn(token, who) {
  api.token = token;
  const c = claims(token);
  api.tenant = c[api.tenantClaim];
  api.who = who || c.email || c.client_id || c.sub;
  document.getElementById("who").textContent = `Tenant ${api.tenant} · ${api.who}`;
  document.getElementById("signout").hidden = false;
  document.getElementById("session").hidden = true;
  afterSignIn();
}

// ---- the local gateway's session ---------------------------------------------

export async function localSession(signin) {
  return fetch("/portal/session", {
    method: "POST", cache: "no-store", credentials: "same-origin",
    headers: { "Content-Type": "application/json" }, body: JSON.stringify(signin ? { signin } : {}),
  }).catch(() => null);
}

// ---- a manager module's client credentials -----------------------------------

async function exchange(clientId, clientSecret) {
  const resp = await fetch("/oauth2/token", {
    method: "POST", credentials: "omit", cache: "no-store",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Authorization: "Basic " + btoa(encodeURIComponent(clientId) + ":" + encodeURIComponent(clientSecret)) },
    body: "grant_type=client_credentials",
  });
  return { resp, data: await resp.json().catch(() => ({})) };
}

// credentialsForm is the sign-in form; the secret leaves the input as soon
// as it was sent.
function credentialsForm(intro) {
  const id = el("input", { type: "text", autocomplete: "username", required: true });
  const secret = el("input", { type: "password", autocomplete: "current-password", required: true });
  const form = el("form", { novalidate: true, class: "signin" },
    el("p", { text: intro }),
    field("clientId", "Client ID", id),
    field("clientSecret", "Client Secret", secret),
    el("div", { class: "actions" }, el("button", { type: "submit", text: "Sign in" })));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const { resp, data } = await exchange(id.value, secret.value);
    secret.value = "";
    if (!resp.ok) {
      const why = resp.status === 429 ? "Too many attempts; wait a few minutes." : "Check the Client ID and Client Secret of a manager module.";
      showProblem(form, { title: "Sign-in failed", detail: `Sign-in failed (${data.error_description || resp.status}). ${why}` });
      return;
    }
    signedIn(data.access_token);
  });
  return form;
}

export function signInView(problem) {
  const form = credentialsForm("Sign in with the Client ID and Client Secret of a manager module of your tenant.");
  show(el("section", {}, el("h2", { text: "Sign in" }), form));
  if (problem) showProblem(form, problem);
}

// ---- the portal's OpenID provider: authorization code + PKCE -------------------
//
// Across the redirect only the state, the nonce, the PKCE verifier and the
// view to come back to (#/…, never a secret) are kept, in sessionStorage,
// and removed when the provider sends the browser back. The tokens stay in
// memory.

const OIDC_KEY = "modules.oidc";
const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const randomToken = () => b64url(crypto.getRandomValues(new Uint8Array(32)));

async function discover(issuer) {
  const r = await fetch(issuer.replace(/\/$/, "") + "/.well-known/openid-configuration", { credentials: "omit" });
  if (!r.ok) throw new Error("the identity provider's discovery document is not available");
  const d = await r.json();
  if (d.issuer !== issuer) throw new Error("the discovery document names another issuer");
  return d;
}

async function toProvider() {
  const cfg = session.cfg;
  const d = await discover(cfg.issuer);
  const saved = { state: randomToken(), nonce: randomToken(), verifier: randomToken(), back: location.hash };
  const challenge = b64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(saved.verifier))));
  sessionStorage.setItem(OIDC_KEY, JSON.stringify(saved));
  const q = new URLSearchParams({
    response_type: "code", client_id: cfg.clientId, redirect_uri: location.origin + "/portal/", scope: "openid profile email",
    state: saved.state, nonce: saved.nonce, code_challenge: challenge, code_challenge_method: "S256",
  });
  location.assign(d.authorization_endpoint + "?" + q);
}

export function oidcSignInView(problem) {
  const section = el("section", {}, el("h2", { text: "Sign in" }),
    el("p", { text: "Sign in with your account at the portal's identity provider." }),
    el("div", { class: "actions" }, el("button", { type: "button", text: "Sign in", onclick: toProvider })));
  show(section);
  if (problem) showProblem(section, { title: "Sign-in failed", detail: problem });
}

// oidcReturn completes a sign-in when the provider sent the browser back,
// and puts the view the manager left into the URL.
export async function oidcReturn(params) {
  const cfg = session.cfg;
  const saved = JSON.parse(sessionStorage.getItem(OIDC_KEY) || "null");
  sessionStorage.removeItem(OIDC_KEY);
  history.replaceState(null, "", location.pathname + (saved?.back || "")); // the code leaves the URL
  if (params.has("error")) throw new Error(params.get("error_description") || params.get("error"));
  if (!saved || params.get("state") !== saved.state) throw new Error("the answer does not belong to a sign-in of this page (state)");
  const d = await discover(cfg.issuer);
  const r = await fetch(d.token_endpoint, {
    method: "POST", credentials: "omit", cache: "no-store",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", code: params.get("code"), redirect_uri: location.origin + "/portal/", client_id: cfg.clientId, code_verifier: saved.verifier }),
  });
  const tok = await r.json();
  if (!r.ok) throw new Error(tok.error_description || tok.error || "the code was refused");
  const id = claims(tok.id_token);
  const aud = Array.isArray(id.aud) ? id.aud : [id.aud];
  if (id.nonce !== saved.nonce || id.iss !== d.issuer || !aud.includes(cfg.clientId) || id.exp * 1000 < Date.now()) {
    throw new Error("the ID token does not belong to this sign-in (nonce, issuer, audience or expiry)");
  }
  signedIn(tok.access_token, id.email || id.preferred_username || id.sub);
}

// ---- signing in again ----------------------------------------------------------
//
// The view stays as it is under the notice (a wizard keeps its entries),
// and signing in again shows it anew with the new token.

const LOST = "Your sign-in has expired or lost its rights. Sign in again";

async function againByLink() {
  const r = await localSession();
  if (r && r.ok) { signedIn((await r.json()).accessToken); return; }
  // the cookie is gone (signed out in another tab): a manager's credentials
  session.mode = "credentials";
  document.getElementById("session").hidden = true;
  lost();
}

function lost() {
  api.token = "";
  const box = document.getElementById("session");
  if (!box.hidden) return; // asked already (several calls were refused); keep what is typed
  const title = el("h2", { id: "session-title", text: LOST });
  let control;
  if (session.mode === "credentials") {
    control = credentialsForm("The Client ID and Client Secret of a manager module of your tenant:");
  } else {
    control = el("div", { class: "actions" }, el("button", { type: "button", text: "Sign in",
      onclick: () => (session.mode === "oidc" ? toProvider() : againByLink()) }));
  }
  box.replaceChildren(title, control);
  box.hidden = false;
  announce(LOST, true);
  box.querySelector("input, button").focus();
}
whenSessionLost(lost);

// signOut forgets the token (and the local gateway's session cookie) and
// asks to sign in.
export async function signOut() {
  api.token = "";
  sessionStorage.clear(); // the draft and the list's search: nothing of this sign-in stays
  document.getElementById("who").textContent = "";
  document.getElementById("signout").hidden = true;
  document.getElementById("session").hidden = true;
  if (session.mode === "link") await fetch("/portal/session", { method: "DELETE", credentials: "same-origin", cache: "no-store" }).catch(() => null);
  history.pushState(null, "", location.pathname);
  if (session.mode === "oidc") oidcSignInView();
  else { session.mode = "credentials"; signInView(); }
  announce("Signed out.");
}
