// A module's client authentication, on its page: the methods its client
// may use at the token endpoint, the public keys it signs private_key_jwt
// assertions with, the platform tokens it may present instead (federated
// credentials), and whether its tokens must be DPoP-bound. Keys are public: nothing here is a
// secret, and a private key pasted by mistake is refused and cleared.

import { el } from "./ui.js";
import { call, modulePath } from "./api.js";
import { when } from "./list.js";

const METHODS = [
  ["client_secret_basic", "Client secret in an HTTP Basic header (curl -u, most libraries)"],
  ["client_secret_post", "Client secret in the form body"],
  ["private_key_jwt", "Signed assertion (private_key_jwt) with one of the public keys below: no secret is sent"],
];

const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

// authField is the page's "Client authentication" fieldset; read() gives
// the patch members it stands for.
export function authField(module) {
  let keys = [...(module.jwks?.keys || [])];
  const methods = METHODS.map(([value, label]) => {
    const box = el("input", { type: "checkbox", id: `f-method-${value}`, value, checked: module.tokenEndpointAuthMethods.includes(value) });
    return el("label", { class: "row", for: box.id }, box, el("span", {}, el("code", { text: value }), " ", label));
  });
  const list = el("ul", { class: "keys", "aria-label": "Public keys" });
  const pasted = el("textarea", { id: "f-new-key", rows: "4", spellcheck: "false", "aria-describedby": "f-new-key-hint f-new-key-error" });
  const kid = el("input", { type: "text", id: "f-new-kid", autocomplete: "off" });
  const addError = el("p", { class: "error", id: "f-new-key-error", hidden: true });
  const federated = federatedField(module.federatedCredentials || []);
  const dpop = el("input", { type: "checkbox", role: "switch", id: "f-dpop", checked: !!module.dpopBoundAccessTokens });

  let added = keysAdded(module); // thumbprint → when, from the History
  async function render() {
    const since = await added;
    list.replaceChildren(...await Promise.all(keys.map(async (k, i) => el("li", {},
      el("code", { text: k.kid }), " ", el("span", { text: describeKey(k) }), " ",
      el("span", { class: "hint", text: `thumbprint ${await thumbprint(k)}` }), " ",
      el("span", { class: "hint", text: since.has(await thumbprint(k)) ? `added ${when(since.get(await thumbprint(k)))}` : "not saved yet" }), " ",
      el("button", { type: "button", class: "secondary", text: "Remove", "aria-label": `Remove key ${k.kid}`,
        onclick: () => { keys.splice(i, 1); render(); } })))));
    if (!keys.length) list.append(el("li", { text: "No keys." }));
  }
  async function add() {
    addError.hidden = true;
    try {
      const found = await readKeys(pasted.value, kid.value.trim());
      keys.push(...found);
      pasted.value = kid.value = "";
      render();
    } catch (e) {
      if (e.private) pasted.value = ""; // never keep a private key on the page
      addError.textContent = e.message;
      addError.hidden = false;
    }
  }
  render();
  // the API's faults of jwks.keys[i] go here, named by the key's kid
  const keyList = el("div", { class: "field", "data-field": "jwks.keys", "data-label": "Public keys", "data-say-reason": true }, list, el("p", { class: "error", hidden: true }));
  keyList.itemLabel = (i) => keys[i] && `Public key ${keys[i].kid}`;
  const section = el("fieldset", { class: "field", "data-field": "tokenEndpointAuthMethods", "data-label": "Token endpoint methods", "data-say-reason": true },
    el("legend", { text: "Client authentication" }),
    el("p", { class: "hint", text: "How this module's client proves itself at the token endpoint. The secret chosen at creation is never shown again; turn its methods off once the client signs with a key." }),
    ...methods,
    el("p", { class: "error", hidden: true }),
    el("div", { class: "field", "data-field": "jwks", "data-label": "Public keys", "data-say-reason": true },
      el("h4", { text: "Public keys" }), el("p", { class: "error", hidden: true }), keyList),
    el("div", { class: "field" },
      el("label", { for: pasted.id, text: "Add a public key" }), pasted,
      el("p", { class: "hint", id: "f-new-key-hint", text: "Paste a public JWK (JSON) or a PEM public key (-----BEGIN PUBLIC KEY-----): RSA of at least 2,048 bits, EC P-256 or Ed25519. Never the private key." }),
      el("label", { for: kid.id, text: "Key ID (kid) for a PEM key" }), kid,
      addError,
      el("button", { type: "button", class: "secondary", text: "Add key", onclick: add })),
    federated.section,
    el("div", { class: "field", "data-field": "dpopBoundAccessTokens", "data-label": "DPoP-bound tokens" },
      el("label", { class: "row", for: dpop.id }, dpop, el("span", { text: "Require DPoP-bound tokens" })),
      el("p", { class: "hint", text: "Its client must prove, with a key it holds, each token request and each call (RFC 9449): a copied token is useless without that key. Only for clients that support DPoP." }),
      el("p", { class: "error", hidden: true })),
  );
  return {
    section,
    read: () => ({
      tokenEndpointAuthMethods: methods.map((l) => l.querySelector("input")).filter((b) => b.checked).map((b) => b.value),
      jwks: keys.length ? { keys } : null,
      federatedCredentials: federated.read(),
      dpopBoundAccessTokens: dpop.checked,
    }),
    // saved: the keys' dates are read again
    saved: () => { added = keysAdded({ ...module, jwks: { keys } }); render(); },
  };
}

// federatedField lists the module's federated credentials: a workload's
// platform token (GitHub Actions, a Kubernetes service account) is
// accepted for this module when its issuer, subject and audience are those
// of an entry. The operator decides which issuers may be named.
function federatedField(initial) {
  const creds = initial.map((c) => ({ ...c }));
  const list = el("ul", { class: "keys", "aria-label": "Federated credentials" });
  const inputs = ["issuer", "subject", "audience"].map((m) => el("input", { type: "text", id: `f-fed-${m}`, autocomplete: "off", spellcheck: "false" }));
  function render() {
    list.replaceChildren(...creds.map((c, i) => el("li", {},
      el("code", { text: c.issuer }), " ", el("span", { text: `subject ${c.subject}, audience ${c.audience}` }), " ",
      el("button", { type: "button", class: "secondary", text: "Remove", "aria-label": `Remove federated credential ${i + 1}`,
        onclick: () => { creds.splice(i, 1); render(); } }))));
    if (!creds.length) list.append(el("li", { text: "None." }));
  }
  render();
  const section = el("div", { class: "field", "data-field": "federatedCredentials", "data-label": "Federated credentials", "data-say-reason": true },
    el("h4", { text: "Federated credentials" }),
    el("p", { class: "hint", text: "A workload may present its platform's token instead of a secret (with private_key_jwt on): it is accepted when its issuer, subject and audience are exactly those of an entry. Your operator decides which issuers may be named." }),
    el("p", { class: "error", hidden: true }), list,
    ...["Issuer (https URL)", "Subject", "Audience"].flatMap((label, i) => [el("label", { for: inputs[i].id, text: label }), inputs[i]]),
    el("button", { type: "button", class: "secondary", text: "Add credential", onclick: () => {
      const [issuer, subject, audience] = inputs.map((x) => x.value.trim());
      creds.push({ issuer, subject, audience }); // the API checks each entry at Save
      for (const x of inputs) x.value = "";
      render();
    } }));
  section.itemLabel = (i, name) => `Federated credential ${i + 1}${name.includes(".") ? ` (${name.split(".").pop()})` : ""}`;
  return { section, read: () => creds };
}

// keysAdded finds when each of the module's keys was added, from its audit
// trail: the trail records a key set's change as "<kid> <thumbprint>" per
// key, so a key was added by the oldest change whose set holds it and
// whose set before did not; a key no change added came with the module.
// (A trail older than AuditRetentionDays is gone: then the oldest kept.)
async function keysAdded(module) {
  const added = new Map();
  const byThumbprint = (set) => new Set((set || []).map((s) => s.split(" ")[1]));
  for (const k of module.jwks?.keys || []) added.set(await thumbprint(k), module.createdAt);
  const changes = [];
  let cursor = "";
  for (let page = 0; page < 10; page++) { // newest first: later pages are older
    const q = new URLSearchParams({ limit: "100" });
    if (cursor) q.set("cursor", cursor);
    const r = await call("GET", `${modulePath(module.id)}/events?${q}`);
    if (r.lost || !r.ok) break;
    changes.push(...r.data.items.filter((e) => e.changes?.jwks));
    cursor = r.data.nextCursor || "";
    if (!cursor) break;
  }
  for (const e of changes.reverse()) { // oldest first: the last time a key came in counts
    const before = byThumbprint(e.changes.jwks.from);
    for (const t of byThumbprint(e.changes.jwks.to)) if (!before.has(t) && added.has(t)) added.set(t, e.time);
  }
  return added;
}

function describeKey(k) {
  const type = { RSA: "RSA", EC: `EC ${k.crv}`, OKP: k.crv }[k.kty] || k.kty;
  return k.alg ? `${type}, ${k.alg}` : type;
}

// readKeys reads what a manager pasted: a JWK, a JWK Set, or a PEM public
// key (converted with WebCrypto). The API checks each key again.
async function readKeys(text, kid) {
  text = text.trim();
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) throw refusal("This is a private key. Paste the public key only, and keep the private key with the client.", true);
  if (text.startsWith("-----BEGIN PUBLIC KEY-----")) {
    const jwk = await fromPEM(text);
    jwk.kid = kid || await thumbprint(jwk);
    return [jwk];
  }
  let parsed;
  try { parsed = JSON.parse(text); } catch { throw refusal("Paste a JWK (JSON) or a PEM public key."); }
  const found = Array.isArray(parsed?.keys) ? parsed.keys : [parsed];
  for (const k of found) {
    if (typeof k !== "object" || k === null) throw refusal("Paste a JWK (JSON) or a PEM public key.");
    if (PRIVATE_MEMBERS.some((m) => m in k)) throw refusal("This holds a private or symmetric key. Paste the public key only, and keep the private key with the client.", true);
    if (!k.kid) k.kid = kid || await thumbprint(k);
  }
  return found;
}

function refusal(message, isPrivate = false) {
  const e = new Error(message);
  e.private = isPrivate;
  return e;
}

// fromPEM converts an SPKI public key to a public JWK (RSA, P-256 or Ed25519).
async function fromPEM(pem) {
  const der = Uint8Array.from(atob(pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "")), (c) => c.charCodeAt(0));
  for (const alg of [{ name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, { name: "ECDSA", namedCurve: "P-256" }, { name: "Ed25519" }]) {
    try {
      const key = await crypto.subtle.importKey("spki", der, alg, true, ["verify"]);
      const { kty, n, e, crv, x, y } = await crypto.subtle.exportKey("jwk", key);
      return Object.fromEntries(Object.entries({ kty, n, e, crv, x, y }).filter(([, v]) => v !== undefined));
    } catch { /* not this kind: try the next */ }
  }
  throw refusal("This PEM key is not an RSA, EC P-256 or Ed25519 public key.");
}

// thumbprint is a key's RFC 7638 SHA-256 thumbprint, as the audit trail
// records it.
async function thumbprint(k) {
  const members = { RSA: ["e", "kty", "n"], EC: ["crv", "kty", "x", "y"], OKP: ["crv", "kty", "x"] }[k.kty];
  if (!members) return "?";
  const canonical = "{" + members.map((m) => `${JSON.stringify(m)}:${JSON.stringify(k[m])}`).join(",") + "}";
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical)));
  return btoa(String.fromCharCode(...digest)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
