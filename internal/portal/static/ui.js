// DOM helpers, messages and field errors of the Modules page.
//
// Every text from the API is set with textContent, never as HTML.

const view = document.getElementById("view");

export function el(tag, attrs = {}, ...children) {
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

// announce tells screen readers; the region is emptied first so that the
// same message twice is read twice.
export function announce(msg, urgent = false) {
  const region = document.getElementById(urgent ? "alert" : "announce");
  region.textContent = "";
  setTimeout(() => { region.textContent = msg; }, 30);
}

// notify shows a message everyone can see (a save, a copy, a delete) until
// it is dismissed or the next one replaces it, and announces it.
export function notify(msg) {
  const box = document.getElementById("message");
  box.replaceChildren(el("p", { text: msg }),
    el("button", { type: "button", class: "secondary", "aria-label": "Dismiss message", text: "Dismiss", onclick: () => { box.hidden = true; } }));
  box.hidden = false;
  announce(msg);
}

export function show(...nodes) {
  // A new view starts with empty live regions: nothing said about the last
  // view is read again, or taken for news about this one.
  for (const id of ["announce", "alert"]) document.getElementById(id).textContent = "";
  view.replaceChildren(...nodes);
  const h = view.querySelector("h2");
  if (h) { h.tabIndex = -1; h.focus(); }
}

export function currentView() { return view; }

// LABELS names the API's members as the form does, for faults whose field
// is not on the current step (and for the screen-reader alert).
const LABELS = {
  name: "Module Name", displayName: "Module Display Name", clientSecret: "Client Secret",
  scopes: "Scopes", enabled: "Enabled", "userLogin": "User Login", "userLogin.enabled": "User Login",
  "userLogin.redirectUris": "Redirect URLs", "userLogin.postLogoutRedirectUris": "Post-logout redirect URLs",
  tokenEndpointAuthMethods: "Token endpoint methods", jwks: "Public keys", "jwks.keys": "Public keys",
  federatedCredentials: "Federated credentials", dpopBoundAccessTokens: "DPoP-bound tokens",
};

// field builds a labelled input with an error slot; faults are put on it
// by the member name (data-field) and named by its label (data-label).
export function field(key, label, input, hint) {
  const id = "f-" + key.replace(/[^a-z0-9]/gi, "-");
  input.id = id;
  input.name = key;
  const err = el("p", { id: id + "-error", class: "error", hidden: true });
  const describedBy = [err.id];
  let hintEl = null;
  if (hint) { hintEl = el("p", { id: id + "-hint", class: "hint", text: hint }); describedBy.push(hintEl.id); }
  input.setAttribute("aria-describedby", describedBy.join(" "));
  return el("div", { class: "field", "data-field": key, "data-label": label }, el("label", { for: id, text: label }), input, hintEl, err);
}

// toggle is a labelled switch with an error slot.
export function toggle(key, input, label, hint) {
  return el("div", { class: "field", "data-field": key, "data-label": label },
    el("label", { class: "row" }, input, el("span", { text: label })),
    hint ? el("p", { class: "hint", text: hint }) : null, el("p", { class: "error", hidden: true }));
}

function clearField(f) {
  for (const input of f.querySelectorAll("input, textarea, select")) input.removeAttribute("aria-invalid");
  const err = f.querySelector(".error");
  if (!err) return;
  err.hidden = true;
  err.textContent = "";
}

export function clearErrors(root) {
  for (const f of root.querySelectorAll("[data-field]")) clearField(f);
  for (const p of root.querySelectorAll(".problem")) p.remove();
}

// A field's fault goes once the manager changes the field: what is shown
// is what is still to be done.
document.addEventListener("input", (ev) => {
  const f = ev.target.closest?.("[data-field]");
  if (f) clearField(f);
});

// lines are a textarea's entries, one per line, blank lines left out.
export function lines(text) { return text.split("\n").map((s) => s.trim()).filter(Boolean); }

// lineNumber is the textarea line (1-based) of the n-th entry of lines().
function lineNumber(text, n) {
  let seen = -1;
  const all = text.split("\n");
  for (let i = 0; i < all.length; i++) if (all[i].trim() && ++seen === n) return i + 1;
  return n + 1;
}

// MESSAGES say what to do about a fault with a stable code (the API's
// errors[].code); a fault without a code, or with a code not known here,
// shows the API's reason.
const MESSAGES = {
  required: (label) => `Enter the ${label}.`,
  too_long: (label, reason) => `The ${label} is too long: ${reason}`,
  taken: (label) => `This ${label} is taken: another module's is the same or looks the same (case and look-alike letters count as the same).`,
  weak_secret: (label, reason) => `Choose a stronger ${label} (or use Generate): ${reason}`,
  invalid_url: (label, reason) => `${label}: ${reason}`,
};

// faultText is one fault as a person reads it: by the field's label, and
// for one entry of a list (userLogin.redirectUris[1]) by its line; the
// API's reason when reasonFirst or the code has no sentence of the page's.
function faultText(fault, label, input, offset = 0, reasonFirst = false) {
  const say = (!reasonFirst && MESSAGES[fault.code]) || ((l, reason) => `${l}: ${reason}`);
  const index = /\[(\d+)\]$/.exec(fault.name);
  if (index && input?.tagName === "TEXTAREA" && Number(index[1]) >= offset) {
    const n = Number(index[1]) - offset;
    const entry = lines(input.value)[n];
    return say(`${label}, line ${lineNumber(input.value, n)}${entry ? ` (${entry})` : ""}`, fault.reason);
  }
  return say(label, fault.reason);
}

// showProblem puts each fault of a problem+json on its field (a member
// such as "userLogin.redirectUris[1]" goes to "userLogin.redirectUris"),
// the rest in a notice, all named by their labels; announces them and
// focuses the first field at fault.
export function showProblem(root, problem) {
  clearErrors(root);
  const said = [];
  const elsewhere = [];
  let first = null;
  for (const e of problem.errors || []) {
    let key = e.name.replace(/\[\d+\]$/, "");
    let f = root.querySelector(`[data-field="${CSS.escape(key)}"]`);
    const item = /\[(\d+)\]/.exec(e.name); // the list entry at fault, if any
    if (!f && item) { // a member of an entry (federatedCredentials[1].issuer) goes to its list
      key = e.name.slice(0, item.index);
      f = root.querySelector(`[data-field="${CSS.escape(key)}"]`);
    }
    // a list's lines are in its textarea (the Scopes field also has a
    // checkbox, whose scope comes first in the list: listOffset)
    const input = f?.querySelector("textarea") || f?.querySelector("input, select");
    // a list shown as items rather than lines names its item (itemLabel)
    const label = (item && f?.itemLabel?.(Number(item[1]), e.name)) || f?.dataset.label || LABELS[key] || key;
    // data-say-reason: a field whose rule the page's sentences do not fit
    const text = faultText(e, label, input, f?.listOffset?.() || 0, f?.dataset.sayReason !== undefined);
    said.push(text);
    if (!f) { elsewhere.push(text); continue; }
    const err = f.querySelector(".error");
    input?.setAttribute("aria-invalid", "true");
    err.hidden = false;
    if (err.textContent) err.append(el("br"));
    err.append(text);
    first ??= input || null;
  }
  if (!problem.errors?.length || elsewhere.length) {
    root.prepend(el("div", { class: "notice problem", text: elsewhere.length ? elsewhere.join(" ") : problem.detail || problem.title }));
  }
  announce(said.length ? said.join(" ") : problem.detail || problem.title, true);
  first?.focus();
}
