// Runs wizard.ts against an API: infra/tsclient.sh compiles it, and
// TestGeneratedClientWizard (internal/localgateway) runs it with node
// against the local gateway. API, TENANT and TOKEN (a manager's access
// token) come from the environment, never the command line. It runs the
// wizard twice: the first creates the module and goes through every step;
// the second stops at validation, with both names taken, and shows the
// messages a portal would (translated from the stable codes).
import { wizard } from "./wizard.js";

declare const process: { env: Record<string, string | undefined>; exitCode: number };

function fail(why: string): void {
  console.log("FAIL " + why);
  process.exitCode = 1;
}

async function main(): Promise<void> {
  const { API: api, TENANT: tenant, TOKEN: token } = process.env;
  if (!api || !tenant || !token) return fail("set API, TENANT and TOKEN");
  const first = await wizard(api, tenant, token, "tsclient-wizard-1");
  if (Array.isArray(first)) return fail("the wizard stopped: " + JSON.stringify(first));
  const { module, listed, events } = first;
  const types = events.map((e) => e.type).sort();
  if (!first.clientId || first.clientSecret !== "c0rrect-h0rse-battery-staple") fail("no credentials shown once");
  if (!module.userLogin.enabled || module.userLogin.redirectUris[0] !== "https://billing.example.com/callback") fail("User Login not switched on");
  if (!listed.some((m) => m.id === module.id)) fail("the module is not in the list");
  if (types.join(",") !== "module.created,module.updated") fail("events " + types.join(","));

  const second = await wizard(api, tenant, token, "tsclient-wizard-2");
  if (!Array.isArray(second)) return fail("a second module of the same names was created");
  const shown = second.map((m) => `${m.field}: ${m.message}`).sort().join("; ");
  if (shown !== "displayName: Already used by another module.; name: Already used by another module.") fail("validation showed " + shown);
  if (process.exitCode !== 1) console.log(`ok wizard: created ${module.id} (${first.clientId}), ${events.length} events; again: ${shown}`);
}

main().catch((e: unknown) => fail(String(e)));
