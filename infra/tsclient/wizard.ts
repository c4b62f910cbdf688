// The Modules page's wizard, as a frontend writes it with a client generated
// from the API document: `openapi-typescript` makes ./api.d.ts from
// internal/openapi/document/openapi.yaml (or GET /openapi.json) and
// `openapi-fetch` calls the API with those types. infra/tsclient.sh
// type-checks this file with `tsc --noEmit` (strict): every call, body and
// answer below is typed by the document, with no cast and no narrowing of a
// success by its status, so a change of the document that breaks a frontend
// fails the test command.
import createClient from "openapi-fetch";
import type { components, paths } from "./api";

type Schemas = components["schemas"];
type Problem = Schemas["Problem"];
type GatewayMessage = Schemas["GatewayMessage"];

// What a portal shows for each stable code; Record<FaultCode, …> makes the
// type check fail when the document gains a code this table lacks.
const faultText: Record<Schemas["FaultCode"], string> = {
  required: "Required.",
  too_short: "Too short.",
  too_long: "Too long.",
  too_many: "Too many entries.",
  invalid_start: "Must start with a letter or a digit.",
  invalid_characters: "Contains characters that are not allowed.",
  invisible_characters: "Contains invisible characters.",
  blank: "Must contain a visible character.",
  weak_secret: "This secret is too easy to guess.",
  invalid_url: "Must be an absolute URL.",
  not_https: "Must use https.",
  wildcard: "Must not contain *.",
  fragment: "Must not contain #.",
  user_info: "Must not contain a user name or password.",
  duplicate: "Listed twice.",
  taken: "Already used by another module.",
  unknown_member: "Not accepted here.",
  duplicate_member: "Sent twice.",
  wrong_type: "Has the wrong type.",
  invalid_value: "Not an allowed value.",
  invalid_format: "Not in the right format.",
  read_only: "Cannot be changed.",
  private_key: "Paste the public key only; keep the private key with the client.",
  unsupported_key: "This key is not accepted: use RSA of at least 2,048 bits, EC P-256 or Ed25519.",
};

// What a portal does for each kind of problem, by its stable type.
const problemText: Record<Schemas["ProblemType"], string> = {
  "urn:modules:problem:invalid-request": "Please correct the fields marked.",
  "urn:modules:problem:unauthenticated": "Please sign in.",
  "urn:modules:problem:forbidden": "You may not manage this tenant's modules.",
  "urn:modules:problem:not-found": "This module no longer exists.",
  "urn:modules:problem:conflict": "Already used by another module.",
  "urn:modules:problem:precondition-failed": "Someone changed this module; reload it.",
  "urn:modules:problem:too-large": "Too much data.",
  "urn:modules:problem:unsupported-media-type": "The page sent something the service does not take.",
  "urn:modules:problem:unprocessable": "This request was already sent with other values.",
  "urn:modules:problem:unavailable": "Please try again in a moment.",
  "urn:modules:problem:throttled": "Please try again in a moment.",
  "urn:modules:problem:server-error": "Something went wrong; please try again later.",
};

/** A field and its message, as a form shows them. */
export interface FieldMessage {
  field: string;
  message: string;
}

/** The messages of a failed call: API Gateway's own refusals are {message}, the functions' are problems. */
export function messages(error: Problem | GatewayMessage): FieldMessage[] {
  if ("message" in error) {
    // 401: no token or an expired one (sign in again); 403: refused; 429: slow down.
    return [{ field: "", message: error.message }];
  }
  const fields = (error.errors ?? []).map((f) => ({ field: f.name, message: faultText[f.code] }));
  return fields.length > 0 ? fields : [{ field: "", message: problemText[error.type] }];
}

/** The wizard's outcome: the credentials shown once, and what the later steps read. */
export interface WizardResult {
  clientId: string;
  clientSecret: string;
  module: Schemas["Module"];
  listed: Schemas["Module"][];
  events: Schemas["Event"][];
}

/**
 * Details → Next (validate), Save (create), then the module page: read,
 * switch User Login on (If-Match), find it in the list, read its trail.
 * Returns the first failure's messages instead, as a form shows them.
 */
export async function wizard(baseUrl: string, tenantId: string, token: string, idempotencyKey: string): Promise<WizardResult | FieldMessage[]> {
  const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });
  const draft: Schemas["CreateModuleRequest"] = {
    name: "billing",
    displayName: "Billing service",
    clientSecret: "c0rrect-h0rse-battery-staple",
    scopes: ["orders.read"],
  };

  // 1. Next: every rule of a create, nothing written; 200 is one schema.
  const checked = await api.POST("/tenants/{tenantId}/modules/validation", { params: { path: { tenantId } }, body: draft });
  if (checked.error) return messages(checked.error);
  const preview: Schemas["ModulePreview"] = checked.data;
  if (preview.name !== draft.name) return [{ field: "name", message: "stored as " + preview.name }];

  // 2. Save: 201 only, the one response with the secret.
  const created = await api.POST("/tenants/{tenantId}/modules", {
    params: { path: { tenantId }, header: { "Idempotency-Key": idempotencyKey } },
    body: draft,
  });
  if (created.error) return messages(created.error);
  const { id: moduleId, clientId, clientSecret } = created.data;

  // 3. The module page reads it, with its ETag.
  const read = await api.GET("/tenants/{tenantId}/modules/{moduleId}", { params: { path: { tenantId, moduleId } } });
  if (read.error) return messages(read.error);
  const etag = read.response.headers.get("ETag") ?? `"${read.data.version}"`;

  // 4. Switch User Login on, for the version read (412 if it changed since).
  const updated = await api.PATCH("/tenants/{tenantId}/modules/{moduleId}", {
    params: { path: { tenantId, moduleId }, header: { "If-Match": etag } },
    body: { userLogin: { enabled: true, redirectUris: ["https://billing.example.com/callback"] } },
  });
  if (updated.error) return messages(updated.error);

  // 5. The list, searched and sorted.
  const listed = await api.GET("/tenants/{tenantId}/modules", {
    params: { path: { tenantId }, query: { q: "bill", sort: "displayName", limit: 20 } },
  });
  if (listed.error) return messages(listed.error);

  // 6. Its trail: created, updated.
  const trail = await api.GET("/tenants/{tenantId}/modules/{moduleId}/events", { params: { path: { tenantId, moduleId } } });
  if (trail.error) return messages(trail.error);

  return { clientId, clientSecret, module: updated.data, listed: listed.data.items, events: trail.data.items };
}
