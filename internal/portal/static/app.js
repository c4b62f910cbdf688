// The Modules page: the list, the Add Module wizard, a module's page, each
// under its own URL fragment (nav.js).
//
// Security: the access token and a new module's client secret live only in
// the modules' variables, never in storage, a cookie, the URL or a log.
// (The local gateway's sign-in cookie is HttpOnly and holds no token.)

import { api } from "./api.js";
import { session, signedIn, onSignedIn, localSession, signInView, oidcSignInView, oidcReturn, signOut } from "./session.js";
import { showProblem, currentView } from "./ui.js";
import { setRouter, changed, forget, shownHash } from "./nav.js";
import { listView } from "./list.js";
import { moduleView } from "./module.js";
import { wizardView, atStake, cancel } from "./wizard.js";

// route shows the view of location.hash:
//   #/modules?q=…&sort=…   the list (also an empty fragment)
//   #/modules/<id>         a module's page
//   #/new[/<step>]         the wizard
// Leaving the wizard while its secret is at stake asks first, as a reload
// does (beforeunload in wizard.js).
function route() {
  if (!api.token) return; // signing in; shown after it
  const before = shownHash();
  if (!changed()) return;
  const [path, query = ""] = (location.hash || "#/modules").slice(1).split("?");
  const parts = path.split("/").filter(Boolean);
  if (atStake() && parts[0] !== "new") {
    if (!confirm("Leave the wizard? The client secret of the new module is lost.")) {
      history.pushState(null, "", before); // the wizard's URL again
      changed();
      return;
    }
    cancel();
  }
  if (parts[0] === "new") wizardView(parts[1] || "details");
  else if (parts[0] === "modules" && parts[1]) moduleView(decodeURIComponent(parts[1]));
  else listView(new URLSearchParams(query));
}
setRouter(route);
onSignedIn(() => { forget(); route(); });
window.addEventListener("popstate", route);
window.addEventListener("hashchange", () => {
  // A sign-in link pasted into a tab that shows the page already changes
  // only the fragment, which loads nothing: start over with it.
  if (new URLSearchParams(location.hash.slice(1)).has("signin")) start();
  else route();
});
document.getElementById("signout").addEventListener("click", () => {
  if (atStake() && !confirm("Sign out? The client secret of the new module is lost.")) return;
  cancel();
  forget();
  signOut();
});

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
    session.mode = "oidc";
    session.cfg = cfg;
    api.tenantClaim = cfg.tenantClaim || api.tenantClaim;
    const params = new URLSearchParams(location.search);
    if (params.has("code") || params.has("error")) {
      try { await oidcReturn(params); } catch (e) { oidcSignInView(e.message); }
      return;
    }
    oidcSignInView();
    return;
  }
  const r = await localSession(signin);
  if (r && r.ok) {
    session.mode = "link";
    signedIn((await r.json()).accessToken);
    return;
  }
  session.mode = "credentials";
  signInView();
  // a link that was refused (used already): say so above the form
  if (signin && r && r.status === 403) {
    const p = await r.json().catch(() => null);
    if (p) showProblem(currentView().querySelector("form"), p);
  }
}

start();
