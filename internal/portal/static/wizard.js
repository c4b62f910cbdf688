// The Add Module wizard: #/new/details, #/new/user-login, #/new/summary,
// #/new/credentials.
//
// The draft lives in this module's variables. Everything but the client
// secret is also kept in sessionStorage, so that a reload (or signing in
// again at the identity provider) keeps the entries; the secret never is,
// and after a reload the wizard asks for it again.

import { call, modulesPath, validate } from "./api.js";
import { el, field, toggle, show, showProblem, notify, announce, lines } from "./ui.js";
import { go, replace } from "./nav.js";
import { scopesField, readScopes } from "./scopes.js";
import { credentials } from "./credentials.js";

const STEPS = [["details", "Details"], ["user-login", "User Login"], ["summary", "Summary"], ["credentials", "Client Credentials"]];
const DETAILS = 0, USER_LOGIN = 1, SUMMARY = 2, CREDENTIALS = 3;
const DRAFT_KEY = "modules.draft";

export const USER_LOGIN_EXPLAINED = "User Login lets people sign in to your application through this module (OpenID Connect); after signing in, the browser returns to one of its redirect URLs.";

// wiz is the wizard in progress, or null.
let wiz = null;

function fresh() {
  return {
    draft: { name: "", displayName: "", clientSecret: "", scopes: [], userLogin: { enabled: false, redirectUris: [], postLogoutRedirectUris: [] } },
    reached: DETAILS, step: DETAILS, created: null, idempotencyKey: crypto.randomUUID(),
  };
}

function restore() {
  const saved = JSON.parse(sessionStorage.getItem(DRAFT_KEY) || "null");
  if (!saved) return null;
  const w = fresh();
  const { reached, ...draft } = saved;
  Object.assign(w.draft, draft, { clientSecret: "" });
  w.reached = reached || DETAILS;
  return w;
}

// persist keeps the draft, never the secret, for a reload.
function persist() {
  const { clientSecret: _, ...rest } = wiz.draft;
  sessionStorage.setItem(DRAFT_KEY, JSON.stringify({ ...rest, reached: wiz.reached }));
}

function drop() {
  wiz = null;
  sessionStorage.removeItem(DRAFT_KEY);
}

// atStake: the secret is typed and checked (Summary) or shown once
// (Client Credentials); leaving now loses it.
export function atStake() { return wiz !== null && wiz.step >= SUMMARY; }

window.addEventListener("beforeunload", (ev) => {
  if (atStake()) ev.preventDefault(); // the browser asks whether to leave
});

export function cancel() { drop(); }

function body() {
  const d = wiz.draft;
  const b = { name: d.name, displayName: d.displayName, clientSecret: d.clientSecret, scopes: d.scopes };
  const u = d.userLogin;
  if (u.enabled || u.redirectUris.length || u.postLogoutRedirectUris.length) b.userLogin = u;
  return b;
}

export const stepHash = (i) => "#/new/" + STEPS[i][0];

// goStep shows a step under its own URL (a history entry: Back works).
function goStep(i) { go(stepHash(i)); }

// wizardView shows the step a URL names, or the furthest one it may: a
// step after the ones checked, or after a reload without the secret, shows
// Details.
export function wizardView(slug) {
  wiz ??= restore() || fresh();
  let step = Math.max(0, STEPS.findIndex(([s]) => s === slug));
  let note = "";
  if (wiz.created) step = CREDENTIALS;
  else if (step === CREDENTIALS) step = wiz.reached;
  if (step > wiz.reached) step = wiz.reached;
  if (step > DETAILS && step < CREDENTIALS && !wiz.draft.clientSecret) {
    step = DETAILS;
    note = "Enter the Client Secret again: it is never kept across a reload.";
  }
  if (location.hash !== stepHash(step)) replace(stepHash(step));
  render(step);
  if (note) {
    const f = document.querySelector('[data-field="clientSecret"]');
    f.querySelector(".hint").before(el("p", { class: "notice", text: note }));
  }
}

function tabs(step) {
  // a step indicator: the steps as tabs, only the current one active
  return el("div", { role: "tablist", "aria-label": "Add Module", class: "steps" },
    ...STEPS.map(([, title], i) => el("button", {
      type: "button", role: "tab", id: "tab-" + i, "aria-selected": String(i === step), "aria-controls": "step",
      tabindex: i === step ? "0" : "-1", disabled: i !== step,
    }, el("span", { class: "step-number", text: `${i + 1}. ` }), title)));
}

function render(step) {
  wiz.step = step;
  const panel = el("div", { role: "tabpanel", id: "step", "aria-labelledby": "tab-" + step });
  show(el("section", {}, el("h2", { text: `Add Module: ${STEPS[step][1]}` }), tabs(step), panel));
  [details, userLogin, summary, credentialsStep][step](panel);
}

// next checks the whole draft with the API (every fault at once, names
// taken included) and goes on only when it would be created.
async function next(form, to) {
  persist();
  const r = await validate(body());
  if (r.lost) return;
  if (!r.ok) { showProblem(form, r.data); return; }
  wiz.reached = Math.max(wiz.reached, to);
  persist();
  goStep(to);
}

function details(panel) {
  const d = wiz.draft;
  const name = el("input", { type: "text", value: d.name, autocomplete: "off", required: true });
  const display = el("input", { type: "text", value: d.displayName, autocomplete: "off", required: true });
  const secret = el("input", { type: "password", value: d.clientSecret, autocomplete: "new-password", required: true });
  const showHide = el("button", { type: "button", class: "secondary", "aria-pressed": "false", text: "Show" });
  showHide.addEventListener("click", () => {
    const visible = secret.type === "password";
    secret.type = visible ? "text" : "password";
    showHide.textContent = visible ? "Hide" : "Show";
    showHide.setAttribute("aria-pressed", String(visible));
  });
  const generate = el("button", { type: "button", class: "secondary", text: "Generate" });
  generate.addEventListener("click", () => { secret.value = randomSecret(); keep(); announce("A strong random secret was generated."); });
  const secretField = field("clientSecret", "Client Secret", secret, "16 to 256 characters. Store it now: it cannot be shown again after the module is saved.");
  secret.after(el("span", { class: "row" }, showHide, generate));
  const scopes = scopesField(d.scopes);
  const form = el("form", { novalidate: true },
    field("name", "Module Name", name, "3 to 64 letters, digits, '.', '_' or '-'; unique on the tenant."),
    field("displayName", "Module Display Name", display, "What people see; unique on the tenant."),
    secretField, scopes,
    el("div", { class: "actions" },
      el("button", { type: "button", class: "secondary", text: "Cancel", onclick: () => { drop(); go("#/modules"); } }),
      el("button", { type: "submit", text: "Next" })));
  function keep() {
    Object.assign(d, { name: name.value, displayName: display.value, clientSecret: secret.value, scopes: readScopes(scopes) });
    persist();
  }
  form.addEventListener("input", keep);
  form.addEventListener("submit", (ev) => { ev.preventDefault(); keep(); next(form, USER_LOGIN); });
  panel.append(form);
}

function userLogin(panel) {
  const u = wiz.draft.userLogin;
  const on = el("input", { type: "checkbox", role: "switch", checked: u.enabled });
  const redirect = el("textarea", { rows: "3" });
  redirect.value = u.redirectUris.join("\n");
  const logout = el("textarea", { rows: "3" });
  logout.value = u.postLogoutRedirectUris.join("\n");
  const form = el("form", { novalidate: true },
    toggle("userLogin.enabled", on, "User Login", USER_LOGIN_EXPLAINED + " Off by default."),
    field("userLogin.redirectUris", "Redirect URLs", redirect, "One per line; https, or http on localhost."),
    field("userLogin.postLogoutRedirectUris", "Post-logout redirect URLs", logout, "One per line."),
    el("div", { class: "actions" },
      el("button", { type: "button", class: "secondary", text: "Back", onclick: () => goStep(DETAILS) }),
      el("button", { type: "submit", text: "Next" })));
  function keep() {
    wiz.draft.userLogin = { enabled: on.checked, redirectUris: lines(redirect.value), postLogoutRedirectUris: lines(logout.value) };
    persist();
  }
  form.addEventListener("input", keep);
  form.addEventListener("submit", (ev) => { ev.preventDefault(); keep(); next(form, SUMMARY); });
  panel.append(form);
}

function summary(panel) {
  const d = wiz.draft;
  const u = d.userLogin;
  const change = (to, what) => el("button", { type: "button", class: "secondary", "aria-label": "Change " + what, text: "Change", onclick: () => goStep(to) });
  const item = (term, value, ...extra) => [el("dt", { text: term }), el("dd", {}, value, ...extra)];
  panel.append(el("dl", {},
    item("Module Name", el("code", { text: d.name.trim() }), " ", change(DETAILS, "the details")),
    item("Module Display Name", d.displayName.trim()),
    item("Client Secret", "Set (not shown)"),
    item("Scopes", d.scopes.join(", ") || "None"),
    item("User Login", u.enabled ? "On" : "Off", " ", change(USER_LOGIN, "User Login")),
    item("Redirect URLs", u.redirectUris.join(", ") || "None"),
    item("Post-logout redirect URLs", u.postLogoutRedirectUris.join(", ") || "None")),
  el("p", { class: "warning", text: "After Save the client secret is shown once, on the next step. Leaving the page now loses it." }),
  el("div", { class: "actions" },
    el("button", { type: "button", class: "secondary", text: "Back", onclick: () => goStep(USER_LOGIN) }),
    el("button", { type: "button", text: "Save", onclick: save })));
}

async function save() {
  // the Idempotency-Key makes a retried Save create one module
  const r = await call("POST", modulesPath(), { body: body(), headers: { "Idempotency-Key": wiz.idempotencyKey } });
  if (r.lost) return;
  if (!r.ok) {
    // back to the step whose field is at fault, with every fault shown
    const names = (r.data.errors || []).map((e) => e.name);
    goStep(names.length && names.every((n) => n.startsWith("userLogin")) ? USER_LOGIN : DETAILS);
    showProblem(document.querySelector("#step form"), r.data);
    return;
  }
  wiz.created = { id: r.data.id, clientId: r.data.clientId, clientSecret: r.data.clientSecret, displayName: r.data.displayName };
  wiz.reached = CREDENTIALS;
  sessionStorage.removeItem(DRAFT_KEY); // created: a reload must not offer it again
  notify(`Module ${r.data.displayName} created.`);
  goStep(CREDENTIALS);
}

function credentialsStep(panel) {
  credentials(panel, wiz.created, finish);
}

// finish drops the secret from memory and shows the list.
function finish() {
  const name = wiz.created.displayName;
  drop();
  go("#/modules");
  notify(`Module ${name} is ready.`);
}

export function randomSecret() {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_";
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let s = "";
  for (const b of bytes) s += alphabet[b % alphabet.length]; // 59 symbols: the bias is below 1 bit over 32 characters
  return s;
}
