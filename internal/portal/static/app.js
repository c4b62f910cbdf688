// The Modules page: list, Add Module wizard, a module's page.
//
// Security: the access token and a new module's client secret live only in
// this module's variables, never in storage, a cookie, the URL or a log.
// (The local gateway's sign-in cookie is HttpOnly and holds no token.)
// Every text from the API is set with textContent, never as HTML.

const api = { token: "", tenant: "", tenantClaim: "tenant_id" };
const view = document.getElementById("view");

// ---- small DOM helpers ------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v === true) e.setAttribute(k, "");
    else if (v !== false && v != null) e.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c != null) e.append(c);
  return e;
}

function announce(msg, urgent = false) {
  const region = document.getElementById(urgent ? "alert" : "announce");
  region.textContent = "";
  setTimeout(() => { region.textContent = msg; }, 30);
}

function show(...nodes) {
  // A new view starts with empty live regions: nothing said about the last
  // view is read again, or taken for news about this one.
  for (const id of ["announce", "alert"]) document.getElementById(id).textContent = "";
  view.replaceChildren(...nodes);
  const h = view.querySelector("h2");
  if (h) { h.tabIndex = -1; h.focus(); }
}

// field builds a labelled input with an error slot; errors are shown on it
// by the problem's errors[].name (its key).
function field(key, label, input, hint) {
  const id = "f-" + key.replace(/[^a-z0-9]/gi, "-");
  input.id = id;
  input.name = key;
  const err = el("p", { id: id + "-error", class: "error", hidden: true });
  const describedBy = [err.id];
  let hintEl = null;
  if (hint) { hintEl = el("p", { id: id + "-hint", class: "hint", text: hint }); describedBy.push(hintEl.id); }
  input.setAttribute("aria-describedby", describedBy.join(" "));
  return el("div", { class: "field", "data-field": key }, el("label", { for: id, text: label }), input, hintEl, err);
}

function clearErrors(root) {
  for (const f of root.querySelectorAll("[data-field]")) {
    const input = f.querySelector("input, textarea, select");
    input.removeAttribute("aria-invalid");
    const err = f.querySelector(".error");
    err.hidden = true;
    err.textContent = "";
  }
  for (const p of root.querySelectorAll(".problem")) p.remove();
}

// showProblem puts each fault of a problem+json on its field (a member
// such as "userLogin.redirectUris[1]" goes to "userLogin.redirectUris"),
// the rest in a notice, announces them and focuses the first field at fault.
function showProblem(root, problem) {
  clearErrors(root);
  const unplaced = [];
  let first = null;
  for (const e of problem.errors || []) {
    const key = e.name.replace(/\[\d+\]$/, "");
    const f = root.querySelector(`[data-field="${CSS.escape(key)}"]`);
    if (!f) { unplaced.push(`${e.name}: ${e.reason}`); continue; }
    const input = f.querySelector("input, textarea, select");
    const err = f.querySelector(".error");
    input.setAttribute("aria-invalid", "true");
    err.hidden = false;
    err.textContent = (err.textContent ? err.textContent + " " : "") + e.reason;
    first ??= input;
  }
  if (!problem.errors?.length || unplaced.length) {
    root.prepend(el("div", { class: "notice problem", text: unplaced.length ? unplaced.join("; ") : problem.detail || problem.title }));
  }
  announce(problem.detail || problem.title, true);
  first?.focus();
}

// ---- the API ----------------------------------------------------------------

async function call(method, path, { body, headers = {}, contentType = "application/json" } = {}) {
  const h = { Authorization: "Bearer " + api.token, ...headers };
  if (body !== undefined) h["Content-Type"] = contentType;
  const resp = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store", credentials: "omit" });
  const text = await resp.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { title: resp.statusText, detail: text }; }
  return { status: resp.status, ok: resp.ok, data, etag: resp.headers.get("ETag") };
}

const modulesPath = () => `/tenants/${encodeURIComponent(api.tenant)}/modules`;

// ---- sign-in ----------------------------------------------------------------

function claims(token) {
  const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(part));
}

function signedIn(token, who) {
  api.token = token;
  const c = claims(token);
  api.tenant = c[api.tenantClaim];
  document.getElementById("who").textContent = `Tenant ${api.tenant} · ${who || c.email || c.client_id || c.sub}`;
  listView();
}

// ---- sign-in at the portal's OpenID provider: authorization code + PKCE ------
//
// Across the redirect only the state, the nonce and the PKCE verifier are
// kept, in sessionStorage, and removed when the provider sends the browser
// back. The tokens stay in memory.

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

function oidcSignInView(cfg, problem) {
  const go = el("button", { type: "button", text: "Sign in" });
  go.addEventListener("click", async () => {
    const d = await discover(cfg.issuer);
    const saved = { state: randomToken(), nonce: randomToken(), verifier: randomToken() };
    const challenge = b64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(saved.verifier))));
    sessionStorage.setItem(OIDC_KEY, JSON.stringify(saved));
    const q = new URLSearchParams({
      response_type: "code", client_id: cfg.clientId, redirect_uri: location.origin + "/portal/", scope: "openid profile email",
      state: saved.state, nonce: saved.nonce, code_challenge: challenge, code_challenge_method: "S256",
    });
    location.assign(d.authorization_endpoint + "?" + q);
  });
  const section = el("section", {}, el("h2", { text: "Sign in" }),
    el("p", { text: "Sign in with your account at the portal's identity provider." }), el("div", { class: "actions" }, go));
  show(section);
  if (problem) showProblem(section, { title: "Sign-in failed", detail: problem });
}

// oidcReturn completes a sign-in when the provider sent the browser back.
async function oidcReturn(cfg, params) {
  const saved = JSON.parse(sessionStorage.getItem(OIDC_KEY) || "null");
  sessionStorage.removeItem(OIDC_KEY);
  history.replaceState(null, "", location.pathname); // the code leaves the URL
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

function signInView() {
  const id = el("input", { type: "text", autocomplete: "username", required: true });
  const secret = el("input", { type: "password", autocomplete: "current-password", required: true });
  const form = el("form", { novalidate: true },
    el("h2", { text: "Sign in" }),
    el("p", { text: "Sign in with the Client ID and Client Secret of a manager module of your tenant." }),
    field("clientId", "Client ID", id),
    field("clientSecret", "Client Secret", secret),
    el("div", { class: "actions" }, el("button", { type: "submit", text: "Sign in" })));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const resp = await fetch("/oauth2/token", {
      method: "POST", credentials: "omit", cache: "no-store",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Authorization: "Basic " + btoa(encodeURIComponent(id.value) + ":" + encodeURIComponent(secret.value)) },
      body: "grant_type=client_credentials",
    });
    secret.value = "";
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) {
      const why = resp.status === 429 ? "Too many attempts; wait a few minutes." : "Check the Client ID and Client Secret of a manager module.";
      showProblem(form, { title: "Sign-in failed", detail: `Sign-in failed (${data.error_description || resp.status}). ${why}` });
      return;
    }
    signedIn(data.access_token);
  });
  show(form);
}

// ---- the list -----------------------------------------------------------------

const list = { q: "", sort: "createdAt", items: [], cursor: "" };

function listView() {
  const search = el("input", { type: "search", value: list.q, placeholder: "Name or display name" });
  const sort = el("select", {},
    ...[["createdAt", "Created"], ["name", "Name"], ["displayName", "Display name"]].map(([v, t]) => el("option", { value: v, text: t, selected: list.sort === v })));
  const body = el("tbody");
  const more = el("button", { type: "button", class: "secondary", text: "Load more", hidden: true });
  const count = el("p", { class: "hint", "aria-live": "polite" });
  const table = el("table", {},
    el("caption", { class: "visually-hidden", text: "Modules of this tenant" }),
    el("thead", {}, el("tr", {}, ...["Display name", "Name", "Client ID", "User Login", "Enabled", "Created"].map((t) => el("th", { scope: "col", text: t })))),
    body);

  async function load(reset) {
    if (reset) { list.items = []; list.cursor = ""; }
    const params = new URLSearchParams({ limit: "20", sort: list.sort });
    if (list.q) params.set("q", list.q);
    if (list.cursor) params.set("cursor", list.cursor);
    const r = await call("GET", `${modulesPath()}?${params}`);
    if (!r.ok) { showProblem(view, r.data); return; }
    list.items.push(...r.data.items);
    list.cursor = r.data.nextCursor || "";
    if (reset) body.replaceChildren();
    for (const m of r.data.items) {
      body.append(el("tr", {},
        el("td", {}, el("a", { href: "#module/" + m.id, onclick: (ev) => { ev.preventDefault(); moduleView(m.id); } }, m.displayName)),
        el("td", {}, el("code", { text: m.name })),
        el("td", {}, el("code", { text: m.clientId })),
        el("td", { text: m.userLogin.enabled ? "On" : "Off" }),
        el("td", { text: m.enabled ? "Yes" : "No" }),
        el("td", {}, el("time", { datetime: m.createdAt, text: new Date(m.createdAt).toLocaleString() }))));
    }
    more.hidden = !list.cursor;
    count.textContent = `${list.items.length} module${list.items.length === 1 ? "" : "s"} shown${list.cursor ? ", more to load" : ""}`;
  }
  let timer;
  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => { list.q = search.value.trim(); load(true); }, 250); });
  sort.addEventListener("change", () => { list.sort = sort.value; load(true); });
  more.addEventListener("click", () => load(false));

  show(el("section", {},
    el("h2", { text: "Modules" }),
    el("div", { class: "toolbar" },
      el("div", {}, el("label", { for: "search", text: "Search" }), Object.assign(search, { id: "search" })),
      el("div", {}, el("label", { for: "sort", text: "Sort by" }), Object.assign(sort, { id: "sort" })),
      el("button", { type: "button", text: "Add Module", onclick: () => wizard() })),
    count, table, more));
  load(true);
}

// ---- the Add Module wizard ------------------------------------------------------

const STEPS = ["Details", "User Login", "Summary", "Client Credentials"];

function urls(text) { return text.split(/\s+/).map((s) => s.trim()).filter(Boolean); }

function randomSecret() {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_";
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let s = "";
  for (const b of bytes) s += alphabet[b % alphabet.length]; // 59 symbols: the bias is below 1 bit over 32 characters
  return s;
}

function wizard() {
  // The draft, secret included, lives only here, and only until Finish.
  const draft = { name: "", displayName: "", clientSecret: "", userLogin: { enabled: false, redirectUris: [], postLogoutRedirectUris: [] } };
  let step = 0;
  let created = null;
  const idempotencyKey = crypto.randomUUID();

  function body() {
    const b = { name: draft.name, displayName: draft.displayName, clientSecret: draft.clientSecret };
    if (draft.userLogin.enabled || draft.userLogin.redirectUris.length || draft.userLogin.postLogoutRedirectUris.length) b.userLogin = draft.userLogin;
    return b;
  }

  function tabs() {
    return el("div", { role: "tablist", "aria-label": "Add Module" },
      ...STEPS.map((s, i) => el("button", { type: "button", role: "tab", id: "tab-" + i, "aria-selected": String(i === step), "aria-controls": "step", tabindex: i === step ? "0" : "-1", disabled: i !== step, text: s })));
  }

  function render() {
    const panel = el("div", { role: "tabpanel", id: "step", "aria-labelledby": "tab-" + step });
    const section = el("section", {}, el("h2", { text: `Add Module: ${STEPS[step]}` }), tabs(), panel);
    [details, userLogin, summary, credentials][step](panel);
    show(section);
  }

  async function check(panel) {
    const r = await call("POST", `${modulesPath()}/validation`, { body: body() });
    if (r.ok) return true;
    showProblem(panel, r.data);
    return false;
  }

  function details(panel) {
    const name = el("input", { type: "text", value: draft.name, autocomplete: "off", required: true });
    const display = el("input", { type: "text", value: draft.displayName, autocomplete: "off", required: true });
    const secret = el("input", { type: "password", value: draft.clientSecret, autocomplete: "new-password", required: true });
    const toggle = el("button", { type: "button", class: "secondary", "aria-pressed": "false", text: "Show" });
    toggle.addEventListener("click", () => {
      const visible = secret.type === "password";
      secret.type = visible ? "text" : "password";
      toggle.textContent = visible ? "Hide" : "Show";
      toggle.setAttribute("aria-pressed", String(visible));
    });
    const generate = el("button", { type: "button", class: "secondary", text: "Generate" });
    generate.addEventListener("click", () => { secret.value = randomSecret(); announce("A strong random secret was generated."); });
    const secretField = field("clientSecret", "Client Secret", secret, "16 to 256 characters. Store it now: it cannot be shown again after the module is saved.");
    secretField.querySelector("input").after(el("span", { class: "row" }, toggle, generate));
    const form = el("form", { novalidate: true },
      field("name", "Module Name", name, "3 to 64 letters, digits, '.', '_' or '-'; unique on the tenant."),
      field("displayName", "Module Display Name", display, "What people see; unique on the tenant."),
      secretField,
      el("div", { class: "actions" },
        el("button", { type: "button", class: "secondary", text: "Cancel", onclick: () => { draft.clientSecret = ""; listView(); } }),
        el("button", { type: "submit", text: "Next" })));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      Object.assign(draft, { name: name.value, displayName: display.value, clientSecret: secret.value });
      if (await check(form)) { step = 1; render(); }
    });
    panel.append(form);
  }

  function userLogin(panel) {
    const on = el("input", { type: "checkbox", role: "switch", checked: draft.userLogin.enabled });
    const redirect = el("textarea", { rows: "3" });
    redirect.value = draft.userLogin.redirectUris.join("\n");
    const logout = el("textarea", { rows: "3" });
    logout.value = draft.userLogin.postLogoutRedirectUris.join("\n");
    const sw = el("div", { class: "field", "data-field": "userLogin.enabled" },
      el("label", { class: "row" }, on, el("span", { text: "User Login" })),
      el("p", { class: "hint", text: "Off by default. Switch it on to let people sign in through this module." }),
      el("p", { class: "error", hidden: true }));
    const form = el("form", { novalidate: true }, sw,
      field("userLogin.redirectUris", "Redirect URLs", redirect, "One per line; https, or http on localhost."),
      field("userLogin.postLogoutRedirectUris", "Post-logout redirect URLs", logout, "One per line."),
      el("div", { class: "actions" },
        el("button", { type: "button", class: "secondary", text: "Back", onclick: () => { keep(); step = 0; render(); } }),
        el("button", { type: "submit", text: "Next" })));
    function keep() {
      draft.userLogin = { enabled: on.checked, redirectUris: urls(redirect.value), postLogoutRedirectUris: urls(logout.value) };
    }
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      keep();
      if (await check(form)) { step = 2; render(); }
    });
    panel.append(form);
  }

  function summary(panel) {
    const u = draft.userLogin;
    const edit = (to) => el("button", { type: "button", class: "secondary", text: "Change", onclick: () => { step = to; render(); } });
    panel.append(el("dl", {},
      el("dt", { text: "Module Name" }), el("dd", {}, el("code", { text: draft.name.trim() }), " ", edit(0)),
      el("dt", { text: "Module Display Name" }), el("dd", { text: draft.displayName.trim() }),
      el("dt", { text: "Client Secret" }), el("dd", { text: "Set (not shown)" }),
      el("dt", { text: "User Login" }), el("dd", {}, u.enabled ? "On" : "Off", " ", edit(1)),
      el("dt", { text: "Redirect URLs" }), el("dd", { text: u.redirectUris.join(", ") || "None" }),
      el("dt", { text: "Post-logout redirect URLs" }), el("dd", { text: u.postLogoutRedirectUris.join(", ") || "None" })),
    el("div", { class: "actions" },
      el("button", { type: "button", class: "secondary", text: "Back", onclick: () => { step = 1; render(); } }),
      el("button", { type: "button", text: "Save", onclick: save })));
    async function save() {
      const r = await call("POST", modulesPath(), { body: body(), headers: { "Idempotency-Key": idempotencyKey } });
      if (!r.ok) {
        // back to the step whose field is at fault
        const names = (r.data.errors || []).map((e) => e.name);
        step = names.some((n) => n.startsWith("userLogin")) ? 1 : 0;
        render();
        showProblem(view.querySelector("form"), r.data);
        return;
      }
      created = { clientId: r.data.clientId, clientSecret: r.data.clientSecret };
      step = 3;
      render();
    }
  }

  function credentials(panel) {
    const copy = (label, value) => {
      const input = el("input", { type: "text", readonly: true, value });
      const f = field(label === "Client ID" ? "clientId" : "clientSecret", label, input);
      const button = el("button", { type: "button", class: "secondary", text: "Copy " + label });
      button.addEventListener("click", async () => {
        try { await navigator.clipboard.writeText(value); } catch { input.select(); document.execCommand("copy"); }
        announce(label + " copied.");
      });
      input.after(button);
      return f;
    };
    panel.append(
      el("p", { class: "warning", text: "The client secret will never be visible again." }),
      copy("Client ID", created.clientId),
      copy("Client Secret", created.clientSecret),
      el("div", { class: "actions" }, el("button", { type: "button", text: "Finish", onclick: finish })));
  }

  function finish() {
    draft.clientSecret = "";
    created = null;
    listView();
  }

  render();
}

// ---- a module's page -----------------------------------------------------------------

async function moduleView(id) {
  const r = await call("GET", `${modulesPath()}/${encodeURIComponent(id)}`);
  if (!r.ok) { showProblem(view, r.data); return; }
  const m = r.data;
  let etag = r.etag;
  const name = el("input", { type: "text", value: m.name });
  const display = el("input", { type: "text", value: m.displayName });
  const enabled = el("input", { type: "checkbox", role: "switch", checked: m.enabled });
  const login = el("input", { type: "checkbox", role: "switch", checked: m.userLogin.enabled });
  const redirect = el("textarea", { rows: "3" });
  redirect.value = m.userLogin.redirectUris.join("\n");
  const logout = el("textarea", { rows: "3" });
  logout.value = m.userLogin.postLogoutRedirectUris.join("\n");
  const scopes = el("textarea", { rows: "2" });
  scopes.value = m.scopes.join("\n");
  const toggle = (key, input, label, hint) => el("div", { class: "field", "data-field": key },
    el("label", { class: "row" }, input, el("span", { text: label })), hint ? el("p", { class: "hint", text: hint }) : null, el("p", { class: "error", hidden: true }));
  const confirmBox = el("div", { class: "notice", hidden: true },
    el("p", { text: `Delete ${m.displayName}? Its client can no longer get tokens. This cannot be undone.` }),
    el("div", { class: "actions" },
      el("button", { type: "button", class: "danger", text: "Delete module", onclick: remove }),
      el("button", { type: "button", class: "secondary", text: "Cancel", onclick: () => { confirmBox.hidden = true; } })));
  const form = el("form", { novalidate: true },
    el("h2", { text: m.displayName }),
    el("p", {}, "Client ID ", el("code", { text: m.clientId })),
    field("name", "Module Name", name),
    field("displayName", "Module Display Name", display),
    toggle("enabled", enabled, "Enabled", "A disabled module gets no tokens, and its tokens stop working."),
    toggle("userLogin.enabled", login, "User Login"),
    field("userLogin.redirectUris", "Redirect URLs", redirect, "One per line; https, or http on localhost."),
    field("userLogin.postLogoutRedirectUris", "Post-logout redirect URLs", logout, "One per line."),
    field("scopes", "Scopes", scopes, "One per line."),
    el("div", { class: "actions" },
      el("button", { type: "button", class: "secondary", text: "Back to the list", onclick: () => listView() }),
      el("button", { type: "submit", text: "Save changes" }),
      el("button", { type: "button", class: "danger", text: "Delete", onclick: () => { confirmBox.hidden = false; confirmBox.querySelector("button").focus(); } })),
    confirmBox);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const patch = {
      name: name.value, displayName: display.value, enabled: enabled.checked, scopes: urls(scopes.value),
      userLogin: { enabled: login.checked, redirectUris: urls(redirect.value), postLogoutRedirectUris: urls(logout.value) },
    };
    const u = await call("PATCH", `${modulesPath()}/${encodeURIComponent(id)}`, { body: patch, headers: { "If-Match": etag }, contentType: "application/merge-patch+json" });
    if (u.status === 412) { changedMeanwhile(form, id); return; }
    if (!u.ok) { showProblem(form, u.data); return; }
    etag = u.etag;
    clearErrors(form);
    announce("Changes saved.");
  });
  async function remove() {
    const d = await call("DELETE", `${modulesPath()}/${encodeURIComponent(id)}`, { headers: { "If-Match": etag } });
    if (d.status === 412) { changedMeanwhile(form, id); return; }
    if (!d.ok) { showProblem(form, d.data); return; }
    announce("Module deleted.");
    listView();
  }
  show(form);
}

function changedMeanwhile(form, id) {
  for (const p of form.querySelectorAll(".problem")) p.remove();
  const box = el("div", { class: "notice problem", role: "alert" },
    el("p", { text: "This module was changed meanwhile, by someone else or in another tab. Reload it to see the current values, then make your change again." }),
    el("button", { type: "button", text: "Reload", onclick: () => moduleView(id) }));
  form.prepend(box);
  box.querySelector("button").focus();
}

// ---- start ---------------------------------------------------------------------

async function start() {
  // The local gateway (make run) prints a one-time link, /portal/#signin=…,
  // and hands the page a token of its bootstrap manager for it. The value
  // is in the fragment, which no request carries; it leaves the URL at
  // once and is posted to /portal/session, which answers with an HttpOnly
  // cookie that signs a reload in without it. Deployed, that route does not
  // exist and the manager signs in: at the identity provider when the
  // deployment names one, else with a manager module's client credentials.
  const signin = new URLSearchParams(location.hash.slice(1)).get("signin");
  if (signin !== null) history.replaceState(null, "", location.pathname + location.search);
  const cfg = await fetch("/portal/config.json", { cache: "no-store", credentials: "omit" }).then((r) => r.json()).catch(() => ({}));
  if (cfg.issuer && cfg.clientId) {
    api.tenantClaim = cfg.tenantClaim || api.tenantClaim;
    const params = new URLSearchParams(location.search);
    if (params.has("code") || params.has("error")) {
      try { await oidcReturn(cfg, params); } catch (e) { oidcSignInView(cfg, e.message); }
      return;
    }
    oidcSignInView(cfg);
    return;
  }
  const r = await fetch("/portal/session", {
    method: "POST", cache: "no-store", credentials: "same-origin",
    headers: { "Content-Type": "application/json" }, body: JSON.stringify(signin ? { signin } : {}),
  }).catch(() => null);
  if (r && r.ok) {
    const s = await r.json();
    signedIn(s.accessToken);
    return;
  }
  signInView();
  // a link that was refused (used already): say so above the form
  if (signin && r && r.status === 403) {
    const p = await r.json().catch(() => null);
    if (p) showProblem(view.querySelector("form"), p);
  }
}

start();
// A sign-in link pasted into a tab that shows the page already changes only
// the fragment, which loads nothing: start over with it.
window.addEventListener("hashchange", () => {
  if (new URLSearchParams(location.hash.slice(1)).has("signin")) start();
});
