// The management API as the page calls it.
//
// The access token lives only in this module's variables, never in
// storage, a cookie, the URL or a log.

export const api = { token: "", tenant: "", tenantClaim: "tenant_id", who: "" };

// sessionLost is called with no argument when the API refuses the token
// (set by session.js; a module cannot import the one that imports it
// without a cycle at load time).
let sessionLost = () => {};
export function whenSessionLost(fn) { sessionLost = fn; }

// call sends one request with the token. A 401 or 403 means the sign-in
// expired, was revoked or lost its rights (API Gateway answers
// {"message":"Unauthorized"} or {"message":"Forbidden"} itself, the
// functions a problem): the page asks to sign in again and the caller
// gets lost=true and does nothing more.
export async function call(method, path, { body, headers = {}, contentType = "application/json" } = {}) {
  const h = { Authorization: "Bearer " + api.token, ...headers };
  if (body !== undefined) h["Content-Type"] = contentType;
  const resp = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store", credentials: "omit" });
  const text = await resp.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { title: resp.statusText, detail: text }; }
  const lost = resp.status === 401 || resp.status === 403;
  if (lost) sessionLost();
  return { status: resp.status, ok: resp.ok, data, etag: resp.headers.get("ETag"), lost };
}

export const modulesPath = () => `/tenants/${encodeURIComponent(api.tenant)}/modules`;
export const modulePath = (id) => `${modulesPath()}/${encodeURIComponent(id)}`;

// validate asks the API whether a create with this body would succeed,
// writing nothing. The one place that names the dry-run operation.
export function validate(body) {
  return call("POST", `${modulesPath()}/validation`, { body });
}

// claims reads a JWT's payload (the API checks the signature).
export function claims(token) {
  const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(part));
}
