// Navigation between the page's views, each under its own URL fragment
// (#/modules, #/modules/<id>, #/new/<step>): a fragment reaches no server,
// so reload, a new tab and Back need nothing from the portal function.

let router = () => {};
let shown = null; // the fragment of the view on the page

// setRouter names the function that shows the view of location.hash.
export function setRouter(fn) { router = fn; }

// go shows the view of hash as a new history entry.
export function go(hash) {
  history.pushState(null, "", hash);
  router();
}

// replace puts hash in the URL for the view on the page (its search, or a
// step corrected), without a history entry and without showing it again.
export function replace(hash) {
  history.replaceState(null, "", hash);
  shown = location.hash;
}

// changed says whether the URL names another view than the one shown, and
// takes it as shown: one step Back fires both popstate and hashchange.
export function changed() {
  const now = location.hash || "#/modules";
  if (now === shown) return false;
  shown = now;
  return true;
}

// shownHash is the fragment of the view on the page.
export function shownHash() { return shown; }

// forget makes the next route show the view again (after signing in).
export function forget() { shown = null; }
