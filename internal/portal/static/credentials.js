// The wizard's last step: the new module's Client ID and Client Secret,
// shown this once, with how to get a token with them.

import { el, field, notify } from "./ui.js";

// copyable is a read-only field with a Copy button.
function copyable(key, label, value, multiline = false) {
  const input = multiline ? el("textarea", { readonly: true, rows: String(value.split("\n").length), spellcheck: "false" }) : el("input", { type: "text", readonly: true, spellcheck: "false" });
  input.value = value;
  const f = field(key, label, input);
  input.after(el("button", { type: "button", class: "secondary", text: "Copy " + label, onclick: () => copy(input, label) }));
  return f;
}

async function copy(input, label) {
  try { await navigator.clipboard.writeText(input.value); } catch { input.select(); document.execCommand("copy"); }
  notify(label + " copied.");
}

// curlExample gets a token with the secret taken from an environment
// variable: the secret is never in the example (nor in a shell's history),
// and it goes to curl on stdin (-K -), not on its command line, which
// every user of the machine can read in ps.
export function curlExample(clientId, tokenURL) {
  return [
    "read -rs CLIENT_SECRET && export CLIENT_SECRET   # paste the secret; it is not shown",
    `printf 'user = "%s:%s"\\n' '${clientId}' "$CLIENT_SECRET" |`,
    `  curl -sS -K - -d grant_type=client_credentials '${tokenURL}'`,
  ].join("\n");
}

export function credentials(panel, created, finish) {
  const tokenURL = location.origin + "/oauth2/token";
  const stored = el("input", { type: "checkbox", id: "stored" });
  const done = el("button", { type: "button", text: "Finish", disabled: true, onclick: finish });
  stored.addEventListener("change", () => { done.disabled = !stored.checked; });
  panel.append(
    el("p", { class: "warning", text: "The client secret will never be visible again." }),
    copyable("clientId", "Client ID", created.clientId),
    copyable("clientSecret", "Client Secret", created.clientSecret),
    copyable("tokenEndpoint", "Token endpoint", tokenURL),
    copyable("curl", "curl example", curlExample(created.clientId, tokenURL), true),
    el("p", { class: "hint", text: "The example reads the secret from the environment variable CLIENT_SECRET; it never holds the secret itself." }),
    el("div", { class: "field" }, el("label", { class: "row", for: "stored" }, stored, el("span", { text: "I have stored the client secret" }))),
    el("div", { class: "actions" }, done));
}
