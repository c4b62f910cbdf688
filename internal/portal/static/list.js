// The list of the tenant's modules: #/modules?q=…&sort=…

import { call, modulesPath } from "./api.js";
import { el, show, showProblem, currentView } from "./ui.js";
import { replace } from "./nav.js";

const SORTS = [["createdAt", "Created"], ["name", "Name"], ["displayName", "Display name"]];
const COLUMNS = ["Display name", "Name", "Client ID", "User Login", "Enabled", "Created"];

export const when = (iso) => (iso ? new Date(iso).toLocaleString() : "Never");

// lastList is the list's URL as last shown, with its search and sort: a
// module's "Back to the list" returns to it, after a reload too (it is in
// sessionStorage; a search is no secret).
const LIST_KEY = "modules.list";
let last = sessionStorage.getItem(LIST_KEY) || "#/modules";
export const lastList = () => last;

function remember(hash) {
  last = hash;
  sessionStorage.setItem(LIST_KEY, hash);
}

// listHash is the URL of the list with its search and sort.
export function listHash(q, sort) {
  const p = new URLSearchParams();
  if (q) p.set("q", q);
  if (sort && sort !== "createdAt") p.set("sort", sort);
  return "#/modules" + (p.size ? "?" + p : "");
}

function row(m) {
  // data-label names each cell where the row shows as a card (narrow screens)
  const cell = (i, ...content) => el("td", { "data-label": COLUMNS[i] }, ...content);
  return el("tr", {},
    cell(0, el("a", { href: "#/modules/" + encodeURIComponent(m.id), text: m.displayName })),
    cell(1, el("code", { text: m.name })),
    cell(2, el("code", { text: m.clientId })),
    cell(3, m.userLogin.enabled ? "On" : "Off"),
    cell(4, m.enabled ? "Yes" : "No"),
    cell(5, when(m.createdAt)));
}

export function listView(params) {
  const state = { q: params.get("q") || "", sort: params.get("sort") || "createdAt", cursor: "", shown: 0 };
  remember(listHash(state.q, state.sort));
  const search = el("input", { type: "search", id: "search", value: state.q, placeholder: "Name or display name" });
  const sort = el("select", { id: "sort" }, ...SORTS.map(([v, t]) => el("option", { value: v, text: t, selected: state.sort === v })));
  const body = el("tbody");
  const more = el("button", { type: "button", class: "secondary", text: "Load more", hidden: true });
  const count = el("p", { class: "hint", "aria-live": "polite" });
  const table = el("table", { class: "cards" },
    el("caption", { class: "visually-hidden", text: "Modules of this tenant" }),
    el("thead", {}, el("tr", {}, ...COLUMNS.map((t) => el("th", { scope: "col", text: t })))),
    body);

  async function load(reset) {
    if (reset) { state.cursor = ""; state.shown = 0; }
    const q = new URLSearchParams({ limit: "20", sort: state.sort });
    if (state.q) q.set("q", state.q);
    if (state.cursor) q.set("cursor", state.cursor);
    const r = await call("GET", `${modulesPath()}?${q}`);
    if (r.lost) return;
    if (!r.ok) { showProblem(currentView(), r.data); return; }
    if (reset) body.replaceChildren();
    body.append(...r.data.items.map(row));
    state.shown += r.data.items.length;
    state.cursor = r.data.nextCursor || "";
    more.hidden = !state.cursor;
    count.textContent = `${state.shown} module${state.shown === 1 ? "" : "s"}${state.cursor ? " shown, more to load" : ""}`;
  }

  // The URL follows the search and sort (replaceState: typing is not a
  // step Back should go through one letter at a time).
  function changed() {
    state.q = search.value.trim();
    state.sort = sort.value;
    remember(listHash(state.q, state.sort));
    replace(last);
    load(true);
  }
  let timer;
  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(changed, 250); });
  sort.addEventListener("change", changed);
  more.addEventListener("click", () => load(false));

  show(el("section", {},
    el("h2", { text: "Modules" }),
    el("div", { class: "toolbar" },
      el("div", {}, el("label", { for: "search", text: "Search" }), search),
      el("div", {}, el("label", { for: "sort", text: "Sort by" }), sort),
      el("a", { class: "button", href: "#/new", text: "Add Module" })),
    count, table, more));
  load(true);
}
