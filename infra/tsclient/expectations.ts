// What the generated types must refuse: each line below is a type error, and
// tsc fails if one is not (@ts-expect-error), so the check can fail both ways.
import createClient from "openapi-fetch";
import type { components, paths } from "./api";

type Schemas = components["schemas"];

export async function refused(api: ReturnType<typeof createClient<paths>>, tenantId: string, draft: Schemas["CreateModuleRequest"]) {
  const checked = await api.POST("/tenants/{tenantId}/modules/validation", { params: { path: { tenantId } }, body: draft });
  if (checked.data) {
    // @ts-expect-error the preview never carries the secret
    checked.data.clientSecret.length;
    // @ts-expect-error nor an ID: nothing was created
    checked.data.id.length;
  }
  // @ts-expect-error ?dryRun is gone from create: validation is its own operation
  await api.POST("/tenants/{tenantId}/modules", { params: { path: { tenantId }, query: { dryRun: "true" } }, body: draft });
  // @ts-expect-error a create needs the secret
  await api.POST("/tenants/{tenantId}/modules", { params: { path: { tenantId } }, body: { name: "a", displayName: "b" } });
  // @ts-expect-error codes are a closed set
  const code: Schemas["FaultCode"] = "too-long";
  // @ts-expect-error problem types are a closed set
  const type: Schemas["ProblemType"] = "about:blank";
  return [code, type];
}
