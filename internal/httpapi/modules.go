package httpapi

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/modules-service/modules/internal/audit"
	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/module"
)

// Routes of the management API, one place (Go 1.22 ServeMux patterns).
const (
	RouteCreate = "POST /tenants/{tenantId}/modules"
	// RouteValidate runs every rule of a create and writes nothing: the
	// wizard's check at Next and before Save. An operation of its own, so
	// each operation has one success status and one schema.
	RouteValidate = "POST /tenants/{tenantId}/modules/validation"
	RouteList     = "GET /tenants/{tenantId}/modules"
	RouteGet      = "GET /tenants/{tenantId}/modules/{moduleId}"
	RouteUpdate   = "PATCH /tenants/{tenantId}/modules/{moduleId}"
	RouteDelete   = "DELETE /tenants/{tenantId}/modules/{moduleId}"
	// The audit trail, served by the read-only function.
	RouteEvents       = "GET /tenants/{tenantId}/events"
	RouteModuleEvents = "GET /tenants/{tenantId}/modules/{moduleId}/events"
)

// Each function binary serves only its own routes, built from the narrow
// slice of the service it needs.

// Creator is what the create-module function needs.
type Creator interface {
	Create(ctx context.Context, tenantID string, in module.CreateInput, idemKey string) (module.Credentials, bool, error)
	Validate(ctx context.Context, tenantID string, in module.CreateInput) (module.Module, error)
}

// Reader is what the list-modules function needs.
type Reader interface {
	Get(ctx context.Context, tenantID, id string) (module.Module, error)
	List(ctx context.Context, tenantID string, q module.ListQuery) (module.Page, error)
	Events(ctx context.Context, tenantID string, q module.EventQuery) (module.EventPage, error)
}

// Updater is what the update-module function needs.
type Updater interface {
	Update(ctx context.Context, tenantID, id string, p module.Patch, ifMatch int64) (module.Module, error)
}

// Deleter is what the delete-module function needs.
type Deleter interface {
	Delete(ctx context.Context, tenantID, id string, ifMatch int64) error
}

// CreateModule serves RouteCreate and RouteValidate.
func CreateModule(log *slog.Logger, svc Creator) http.Handler {
	create := func(w http.ResponseWriter, r *http.Request) error {
		if err := noQuery(r); err != nil {
			return err
		}
		in, err := validInput(r, svc)
		if err != nil {
			return err
		}
		key := r.Header.Values("Idempotency-Key")
		if len(key) > 1 || (len(key) == 1 && strings.TrimSpace(key[0]) == "") {
			return derrors.Invalid(derrors.Field{Name: "Idempotency-Key", Code: derrors.CodeInvalidFormat, Reason: "must be one non-empty value, such as a UUID"})
		}
		tenant := r.PathValue("tenantId")
		c, replayed, err := svc.Create(r.Context(), tenant, in, r.Header.Get("Idempotency-Key"))
		if err != nil {
			return err
		}
		w.Header().Set("Location", modulePath(tenant, c.ID))
		if replayed {
			w.Header().Set("Idempotent-Replayed", "true")
		}
		writeModule(w, http.StatusCreated, c.Version, c)
		return nil
	}
	validate := func(w http.ResponseWriter, r *http.Request) error {
		var in module.CreateInput
		memberFaults, err := decodeObject(r, &in, "application/json")
		if err != nil {
			return err
		}
		m, err := svc.Validate(r.Context(), r.PathValue("tenantId"), in)
		if err := allFaults(memberFaults, err); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, "application/json", module.Preview{Module: m})
		return nil
	}
	return serve(log, "create-module", route{RouteCreate, create}, route{RouteValidate, validate})
}

// noQuery refuses any query parameter on a create. A create takes none,
// and a client still sending the retired ?dryRun=true must learn that
// its check would now create a module, not create one.
func noQuery(r *http.Request) error {
	var bad []derrors.Field
	for _, name := range slices.Sorted(maps.Keys(r.URL.Query())) {
		reason := "is not a parameter of this operation"
		if strings.EqualFold(name, "dryRun") {
			reason += "; to check a create without creating anything, POST the same body to /tenants/{tenantId}/modules/validation"
		}
		if len(name) > 64 { // the caller's own input, echoed bounded
			name = strings.ToValidUTF8(name[:64], "") + "…"
		}
		bad = append(bad, derrors.Field{Name: name, Code: derrors.CodeUnknownMember, Reason: reason})
	}
	if len(bad) > 0 {
		return derrors.Invalid(bad...)
	}
	return nil
}

// validInput decodes a create's body. With members at fault it runs every
// rule too, on what did decode, so that one 400 names every field at
// fault, JSON members and rules alike, exactly as RouteValidate would.
func validInput(r *http.Request, svc Creator) (module.CreateInput, error) {
	var in module.CreateInput
	memberFaults, err := decodeObject(r, &in, "application/json")
	if err != nil || memberFaults == nil {
		return in, err
	}
	_, err = svc.Validate(r.Context(), r.PathValue("tenantId"), in)
	return in, allFaults(memberFaults, err)
}

// allFaults joins the faults of the JSON members and of the rules into one
// 400; any other failure of the rules (a 409, a store's error) comes after
// the members' faults, and alone when they have none.
func allFaults(memberFaults, rules error) error {
	if memberFaults == nil {
		return rules
	}
	if errors.Is(rules, derrors.ErrInvalid) {
		return derrors.Faults(memberFaults, rules)
	}
	return memberFaults
}

// ListModules serves RouteList and RouteGet.
func ListModules(log *slog.Logger, svc Reader) http.Handler {
	list := func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		lq := module.ListQuery{Cursor: q.Get("cursor"), Limit: module.DefaultLimit, Q: q.Get("q"), Sort: module.Sort(q.Get("sort"))}
		if q.Has("limit") {
			n, err := strconv.Atoi(q.Get("limit"))
			if err != nil {
				return derrors.Invalid(derrors.Field{Name: "limit", Code: derrors.CodeInvalidValue, Reason: fmt.Sprintf("must be a whole number between 1 and %d", module.MaxLimit)})
			}
			lq.Limit = n
		}
		if q.Has("sort") && lq.Sort == "" {
			lq.Sort = "-" // present but empty: refused as any unknown order
		}
		page, err := svc.List(r.Context(), r.PathValue("tenantId"), lq)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, "application/json", page)
		return nil
	}
	get := func(w http.ResponseWriter, r *http.Request) error {
		m, err := svc.Get(r.Context(), r.PathValue("tenantId"), r.PathValue("moduleId"))
		if err != nil {
			return err
		}
		writeModule(w, http.StatusOK, m.Version, m)
		return nil
	}
	events := func(w http.ResponseWriter, r *http.Request) error {
		eq, err := eventQuery(r)
		if err != nil {
			return err
		}
		if id := r.PathValue("moduleId"); id != "" {
			// A module's events are a sub-resource: gone with it (404).
			// A deleted module's trail stays at the tenant's route,
			// ?moduleId=, until it expires.
			if _, err := svc.Get(r.Context(), r.PathValue("tenantId"), id); err != nil {
				if errors.Is(err, derrors.ErrNotFound) {
					return derrors.New(derrors.ErrNotFound, "this tenant has no module with ID "+id+"; the events of a deleted module are at /tenants/{tenantId}/events?moduleId="+id)
				}
				return err
			}
		}
		page, err := svc.Events(r.Context(), r.PathValue("tenantId"), eq)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, "application/json", page)
		return nil
	}
	return serve(log, "list-modules", route{RouteList, list}, route{RouteGet, get}, route{RouteEvents, events}, route{RouteModuleEvents, events})
}

// eventQuery reads the audit trail's query: limit, cursor, type and since
// (an RFC 3339 time).
func eventQuery(r *http.Request) (module.EventQuery, error) {
	q := r.URL.Query()
	eq := module.EventQuery{ModuleID: cmp.Or(r.PathValue("moduleId"), q.Get("moduleId")), Cursor: q.Get("cursor"), Limit: module.DefaultLimit, Type: audit.Type(q.Get("type"))}
	var bad []derrors.Field
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil {
			bad = append(bad, derrors.Field{Name: "limit", Code: derrors.CodeInvalidValue, Reason: fmt.Sprintf("must be a whole number between 1 and %d", module.MaxLimit)})
		}
		eq.Limit = n
	}
	if q.Has("moduleId") && !module.IsModuleID(q.Get("moduleId")) {
		bad = append(bad, derrors.Field{Name: "moduleId", Code: derrors.CodeInvalidFormat, Reason: "must be a module ID: 26 lowercase letters and digits"})
	}
	if q.Has("type") && eq.Type == "" {
		eq.Type = "-" // present but empty: refused as any unknown type
	}
	if q.Has("since") {
		t, err := time.Parse(time.RFC3339, q.Get("since"))
		if err != nil {
			bad = append(bad, derrors.Field{Name: "since", Code: derrors.CodeInvalidFormat, Reason: "must be an RFC 3339 time, such as 2026-11-30T00:00:00Z"})
		}
		eq.Since = t
	}
	if len(bad) > 0 {
		return eq, derrors.Invalid(bad...)
	}
	return eq, nil
}

// UpdateModule serves RouteUpdate.
func UpdateModule(log *slog.Logger, svc Updater) http.Handler {
	return serve(log, "update-module", route{RouteUpdate, func(w http.ResponseWriter, r *http.Request) error {
		// A request that fails anyway fails with that error, not 412
		// (RFC 9110 §13.2.1): the body is checked before the precondition.
		var p module.Patch
		if err := decode(r, &p, "application/merge-patch+json", "application/json"); err != nil {
			return err
		}
		if p == nil {
			return derrors.New(derrors.ErrInvalid, "the body must be a JSON object (RFC 7396 merge patch)")
		}
		ifMatch, err := parseIfMatch(r)
		if err != nil {
			return err
		}
		m, err := svc.Update(r.Context(), r.PathValue("tenantId"), r.PathValue("moduleId"), p, ifMatch)
		if err != nil {
			return err
		}
		writeModule(w, http.StatusOK, m.Version, m)
		return nil
	}})
}

// DeleteModule serves RouteDelete.
func DeleteModule(log *slog.Logger, svc Deleter) http.Handler {
	return serve(log, "delete-module", route{RouteDelete, func(w http.ResponseWriter, r *http.Request) error {
		ifMatch, err := parseIfMatch(r)
		if err != nil {
			return err
		}
		if err := svc.Delete(r.Context(), r.PathValue("tenantId"), r.PathValue("moduleId"), ifMatch); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}})
}

// route is a pattern and its handler, whose error becomes a problem response.
type route struct {
	pattern string
	handle  func(http.ResponseWriter, *http.Request) error
}

// serve builds a mux of routes behind requireManager and the middleware.
func serve(log *slog.Logger, function string, routes ...route) http.Handler {
	mux := http.NewServeMux()
	for _, rt := range routes {
		mux.Handle(rt.pattern, requireManager(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := rt.handle(w, r); err != nil {
				writeError(w, r, err)
			}
		})))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, derrors.New(derrors.ErrNotFound, "no such route in this function: "+r.Method+" "+r.URL.Path))
	})
	return wrap(log, function, mux)
}

func writeModule(w http.ResponseWriter, status int, version int64, v any) {
	w.Header().Set("ETag", etag(version))
	writeJSON(w, status, "application/json", v)
}

func modulePath(tenant, id string) string { return "/tenants/" + tenant + "/modules/" + id }

// etag is a strong validator of a module's version (RFC 9110 §8.8.3).
func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// neverMatches is an If-Match version no module has.
const neverMatches = -1

// parseIfMatch returns the version If-Match names, 0 when absent or "*",
// and neverMatches for a weak ETag: If-Match compares strongly, so a weak
// one matches no version (RFC 9110 §13.1.1) and the answer is 412.
// Anything else but one strong ETag of ours is malformed: 400, so the
// client learns to fix the header rather than to re-read the module.
func parseIfMatch(r *http.Request) (int64, error) {
	values := r.Header.Values("If-Match")
	if len(values) == 0 {
		return 0, nil
	}
	v := strings.TrimSpace(values[0])
	if v == "*" && len(values) == 1 {
		return 0, nil
	}
	if strings.HasPrefix(v, `W/"`) && strings.HasSuffix(v, `"`) && len(v) > 3 && len(values) == 1 {
		return neverMatches, nil
	}
	n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(v, `"`), `"`), 10, 64)
	if err != nil || n < 1 || len(values) > 1 || len(v) < 3 || v[0] != '"' || v[len(v)-1] != '"' {
		return 0, derrors.Invalid(derrors.Field{Name: "If-Match", Code: derrors.CodeInvalidFormat, Reason: `must be "*" or the ETag of the module as last read, such as "3"`})
	}
	return n, nil
}
