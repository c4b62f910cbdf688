// A module's page: #/modules/<id>. Its settings (saved with If-Match), its
// dates, and its history from the audit trail.

import { call, modulePath } from "./api.js";
import { el, field, toggle, show, showProblem, clearErrors, notify, currentView, lines } from "./ui.js";
import { scopesField, readScopes } from "./scopes.js";
import { authField } from "./keys.js";
import { USER_LOGIN_EXPLAINED } from "./wizard.js";
import { when, lastList } from "./list.js";
import { go } from "./nav.js";

export async function moduleView(id) {
  const r = await call("GET", modulePath(id));
  if (r.lost) return;
  if (!r.ok) {
    show(el("section", {}, el("h2", { text: "Module not found" }), el("p", {}, el("a", { href: "#/modules", text: "Back to the list" }))));
    showProblem(currentView().querySelector("section"), r.data);
    return;
  }
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
  const scopes = scopesField(m.scopes);
  const auth = authField(m);
  const confirmBox = el("div", { class: "notice", hidden: true },
    el("p", { text: `Delete ${m.displayName}? Its client can no longer get tokens. This cannot be undone.` }),
    el("div", { class: "actions" },
      el("button", { type: "button", class: "danger", text: "Delete module", onclick: remove }),
      el("button", { type: "button", class: "secondary", text: "Cancel", onclick: () => { confirmBox.hidden = true; } })));
  const form = el("form", { novalidate: true },
    el("h2", { text: m.displayName }),
    el("dl", { class: "facts" },
      el("dt", { text: "Client ID" }), el("dd", {}, el("code", { text: m.clientId })),
      el("dt", { text: "Created" }), el("dd", { text: when(m.createdAt) }),
      el("dt", { text: "Updated" }), el("dd", { text: when(m.updatedAt) }),
      el("dt", { text: "Last used" }), el("dd", { text: m.lastUsedAt ? when(m.lastUsedAt) : "Never (no token yet)" })),
    field("name", "Module Name", name),
    field("displayName", "Module Display Name", display),
    toggle("enabled", enabled, "Enabled", "A disabled module gets no tokens, and its tokens stop working."),
    toggle("userLogin.enabled", login, "User Login", USER_LOGIN_EXPLAINED),
    field("userLogin.redirectUris", "Redirect URLs", redirect, "One per line; https, or http on localhost."),
    field("userLogin.postLogoutRedirectUris", "Post-logout redirect URLs", logout, "One per line."),
    scopes,
    auth.section,
    el("div", { class: "actions" },
      el("a", { class: "button secondary", href: lastList(), text: "Back to the list" }),
      el("button", { type: "submit", text: "Save changes" }),
      el("button", { type: "button", class: "danger", text: "Delete", onclick: () => { confirmBox.hidden = false; confirmBox.querySelector("button").focus(); } })),
    confirmBox);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const patch = {
      name: name.value, displayName: display.value, enabled: enabled.checked, scopes: readScopes(scopes),
      userLogin: { enabled: login.checked, redirectUris: lines(redirect.value), postLogoutRedirectUris: lines(logout.value) },
      ...auth.read(),
    };
    const u = await call("PATCH", modulePath(id), { body: patch, headers: { "If-Match": etag }, contentType: "application/merge-patch+json" });
    if (u.lost) return;
    if (u.status === 412) { changedMeanwhile(form, id); return; }
    if (!u.ok) { showProblem(form, u.data); return; }
    etag = u.etag;
    clearErrors(form);
    notify("Changes saved.");
    trail.reload();
    auth.saved();
  });
  async function remove() {
    const d = await call("DELETE", modulePath(id), { headers: { "If-Match": etag } });
    if (d.lost) return;
    if (d.status === 412) { changedMeanwhile(form, id); return; }
    if (!d.ok) { showProblem(form, d.data); return; }
    go(lastList());
    notify(`Module ${m.displayName} deleted.`);
  }
  const trail = trailOf(id);
  show(form, trail.section);
  trail.reload();
}

function changedMeanwhile(form, id) {
  for (const p of form.querySelectorAll(".problem")) p.remove();
  const box = el("div", { class: "notice problem", role: "alert" },
    el("p", { text: "This module was changed meanwhile, by someone else or in another tab. Reload it to see the current values, then make your change again." }),
    el("button", { type: "button", text: "Reload", onclick: () => moduleView(id) }));
  form.prepend(box);
  box.querySelector("button").focus();
}

// ---- its history: the module's audit trail, newest first, 10 at a time --------

const EVENT_NAMES = {
  "module.created": "Created", "module.updated": "Changed", "module.enabled": "Enabled", "module.disabled": "Disabled",
  "module.deleted": "Deleted", "client.throttled": "Token requests refused (too many)", "client.authenticated_after_guarding": "Signed in after guarding",
};

// who says who made a change, as the trail records it.
function who(actor = {}) {
  const id = actor.clientId || actor.subject || "";
  return { manager: `manager ${id}`, user: `user ${id}`, client: `client ${id}`, operator: "an operator" }[actor.kind] || id;
}

function describe(e) {
  const changes = Object.keys(e.changes || {});
  const what = EVENT_NAMES[e.type] || e.type;
  return changes.length ? `${what}: ${changes.join(", ")}` : what;
}

function trailOf(id) {
  const items = el("ol", { class: "trail" });
  const more = el("button", { type: "button", class: "secondary", text: "Older events", hidden: true });
  const section = el("section", { "aria-labelledby": "trail-title" }, el("h3", { id: "trail-title", text: "History" }), items, more);
  let cursor = "";
  async function load(reset) {
    if (reset) cursor = "";
    const q = new URLSearchParams({ limit: "10" });
    if (cursor) q.set("cursor", cursor);
    const r = await call("GET", `${modulePath(id)}/events?${q}`);
    if (r.lost) return;
    if (!r.ok) { items.replaceChildren(el("li", { text: "The history cannot be shown now." })); return; }
    if (reset) items.replaceChildren();
    for (const e of r.data.items) {
      items.append(el("li", {}, el("time", { datetime: e.time, text: when(e.time) }), " ", el("strong", { text: describe(e) }), by(e)));
    }
    if (!items.children.length) items.append(el("li", { text: "No events yet." }));
    cursor = r.data.nextCursor || "";
    more.hidden = !cursor;
  }
  const by = (e) => (e.actor ? ` by ${who(e.actor)}` : "");
  more.addEventListener("click", () => load(false));
  return { section, reload: () => load(true) };
}
