// The Scopes field, shared by the wizard and a module's page.

import { el, lines } from "./ui.js";

export const MANAGE = "modules:manage";

// scopesField is a fieldset named "scopes" (where the API's scope faults
// go): a checkbox for modules:manage, which gives management rights, and
// a line per other scope. None by default.
export function scopesField(scopes, id = "scopes") {
  const manage = el("input", { type: "checkbox", id: `f-${id}-manage`, checked: scopes.includes(MANAGE), "aria-describedby": `f-${id}-manage-hint` });
  const others = el("textarea", { rows: "2", id: "f-scopes", name: "scopes", "aria-describedby": "f-scopes-hint f-scopes-error" });
  others.value = scopes.filter((s) => s !== MANAGE).join("\n");
  const fieldset = el("fieldset", { class: "field", "data-field": "scopes", "data-label": "Scopes" },
    el("legend", { text: "Scopes" }),
    el("label", { class: "row", for: manage.id }, manage, el("span", {}, el("code", { text: MANAGE }), " (management rights)")),
    el("p", { class: "hint", id: manage.getAttribute("aria-describedby"), text: "Its tokens can create, change and delete every module of the tenant, as you can. Leave it off for an application." }),
    el("label", { for: "f-scopes", text: "Other scopes" }),
    others,
    el("p", { class: "hint", id: "f-scopes-hint", text: "One per line, as your applications check them. None by default." }),
    el("p", { class: "error", id: "f-scopes-error", hidden: true }));
  fieldset.listOffset = () => (manage.checked ? 1 : 0); // the API's scopes[i] counts it first
  return fieldset;
}

// readScopes is the field's value: modules:manage first when ticked.
export function readScopes(fieldset) {
  const manage = fieldset.querySelector("input[type=checkbox]").checked;
  const others = lines(fieldset.querySelector("textarea").value).filter((s) => s !== MANAGE);
  return manage ? [MANAGE, ...others] : others;
}
