// Navigation between the page's views, each under its own URL fragment
// (#/modules, #/modules/<id>, #/new/<step>): a fragment reaches no server,
// so reload, a new tab and Back need nothing from the portal function.

let router = () => {};

// setRouter names the function that shows the view of location.hash.
export function setRouter(fn) { router = fn; }

// go shows the view of hash as a new history entry.
export function go(hash) {
  history.pushState(null, "", hash);
  router();
}
