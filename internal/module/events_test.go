package module_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modules-service/modules/internal/audit"
	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/testing/testenv"
)

var origin = audit.Origin{
	Actor:     audit.Actor{Kind: "manager", ClientID: "manager-client-1", TenantID: "acme"},
	RequestID: "req-1", SourceIP: "203.0.113.5", UserAgent: "portal/1.0",
}

func patch(t *testing.T, members string) module.Patch {
	t.Helper()
	var p module.Patch
	if err := json.Unmarshal([]byte(members), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func events(t *testing.T, svc *module.Service, q module.EventQuery) []audit.Event {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = module.MaxLimit
	}
	page, err := svc.Events(context.Background(), "acme", q)
	if err != nil {
		t.Fatalf("Events(%+v): %v", q, err)
	}
	return page.Items
}

func dump(t *testing.T, item map[string]dbtypes.AttributeValue) string {
	t.Helper()
	var m map[string]any
	if err := attributevalue.UnmarshalMap(item, &m); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func types(evs []audit.Event) string {
	var s []string
	for _, e := range evs {
		s = append(s, string(e.Type))
	}
	return strings.Join(s, " ")
}

// TestEveryChangeHasItsEvent: create, rename, disable, enable and delete
// each leave one event, newest first, in the tenant's trail and the
// module's, with who, from where, and for updates what changed. The
// module's events outlive it.
func TestEveryChangeHasItsEvent(t *testing.T) {
	testenv.All(t, func(t *testing.T, b testenv.Backend) {
		svc := b.Service()
		svc.AuditRetention = 400 * 24 * time.Hour
		ctx := audit.WithOrigin(context.Background(), origin)
		c, _, err := svc.Create(ctx, "acme", input("billing", "Billing"), "")
		if err != nil {
			t.Fatal(err)
		}
		other := mustCreate(t, svc, "acme", "orders", "Orders") // an operator's: no origin
		steps := []string{`{"name":"invoicing"}`, `{"enabled":false}`, `{"enabled":true,"displayName":"Invoices"}`}
		for _, p := range steps {
			if _, err := svc.Update(ctx, "acme", c.ID, patch(t, p), 0); err != nil {
				t.Fatalf("update %s: %v", p, err)
			}
		}
		if err := svc.Delete(ctx, "acme", c.ID, 0); err != nil {
			t.Fatal(err)
		}

		const want = "module.deleted module.enabled module.disabled module.updated module.created"
		mine := events(t, svc, module.EventQuery{ModuleID: c.ID})
		if got := types(mine); got != want {
			t.Fatalf("module trail after delete: %s; want %s", got, want)
		}
		all := events(t, svc, module.EventQuery{})
		if got := types(all); got != want+" module.created" {
			t.Errorf("tenant trail: %s; want %s and the other module's create", got, want)
		}
		if all[4].ModuleID != other.ID {
			t.Errorf("tenant trail: %s is not the other module's create", all[4].ModuleID)
		}
		for _, e := range mine {
			if e.Actor != origin.Actor || e.RequestID != "req-1" || e.SourceIP != "203.0.113.5" || e.UserAgent != "portal/1.0" {
				t.Errorf("%s: actor %+v, request %q, source %q, agent %q; want the request's origin", e.Type, e.Actor, e.RequestID, e.SourceIP, e.UserAgent)
			}
			if e.TenantID != "acme" || e.Outcome != audit.Success || e.Time.IsZero() {
				t.Errorf("%s: tenant %q, outcome %q, time %v", e.Type, e.TenantID, e.Outcome, e.Time)
			}
		}
		for i := 1; i < len(all); i++ {
			if all[i-1].ID <= all[i].ID {
				t.Errorf("tenant trail not newest first: %s before %s", all[i-1].ID, all[i].ID)
			}
		}
		rename := mine[3]
		if ch := rename.Changes["name"]; ch.From != "billing" || ch.To != "invoicing" || len(rename.Changes) != 1 {
			t.Errorf("rename changes %v; want name billing -> invoicing only", rename.Changes)
		}
		if rename.ModuleName != "invoicing" || mine[4].ModuleName != "billing" {
			t.Errorf("module names %q, %q; want the name at each moment", rename.ModuleName, mine[4].ModuleName)
		}
		enable := mine[1]
		if len(enable.Changes) != 2 || enable.Changes["enabled"].To != true || enable.Changes["displayName"].To != "Invoices" {
			t.Errorf("enable changes %v; want enabled and displayName", enable.Changes)
		}
		if mine[4].Changes != nil || mine[0].Changes != nil {
			t.Errorf("create/delete carry changes: %v %v", mine[4].Changes, mine[0].Changes)
		}
		created := events(t, svc, module.EventQuery{ModuleID: other.ID})
		if len(created) != 1 || created[0].Actor.Kind != "operator" {
			t.Errorf("operator's create: %+v; want one event by kind operator", created)
		}
		// Never a secret or anything derived from one, in any event item.
		out, err := b.DB.Scan(context.Background(), &dynamodb.ScanInput{TableName: &b.Table})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, item := range out.Items {
			d := dump(t, item)
			if !strings.Contains(d, `"PK":"EVENTS#`) {
				continue
			}
			n++
			if dump := d; strings.Contains(dump, secret) || strings.Contains(dump, "argon2id") || strings.Contains(dump, "fingerprint") {
				t.Errorf("event item holds secret material: %s", dump)
			}
			if _, ok := item["ttl"]; !ok {
				t.Errorf("event item without ttl: %s", d)
			}
		}
		if n != 2*len(all) {
			t.Errorf("%d event items; want two per event (%d)", n, 2*len(all))
		}
	})
}

// TestNoChangeNoEvent: a patch that changes nothing writes nothing: the
// version stays, so another editor's If-Match stays good.
func TestNoChangeNoEvent(t *testing.T) {
	testenv.AllWithService(t, func(t *testing.T, ctx context.Context, svc *module.Service, b testenv.Backend) {
		m := mustCreate(t, svc, "acme", "billing", "Billing")
		for _, p := range []string{`{}`, `{"name":"billing","enabled":true}`, `{"scopes":null}`} {
			got, err := svc.Update(ctx, "acme", m.ID, patch(t, p), m.Version)
			if err != nil || got.Version != m.Version || !got.UpdatedAt.Equal(m.UpdatedAt) {
				t.Errorf("patch %s: version %d, updated %v, %v; want version %d unchanged", p, got.Version, got.UpdatedAt, err, m.Version)
			}
		}
		if got := types(events(t, svc, module.EventQuery{ModuleID: m.ID})); got != "module.created" {
			t.Errorf("trail %s; want only the create", got)
		}
	})
}

// TestFailedChangeHasNoEvent: a refused rename writes neither the change
// nor an event.
func TestFailedChangeHasNoEvent(t *testing.T) {
	testenv.AllWithService(t, func(t *testing.T, ctx context.Context, svc *module.Service, b testenv.Backend) {
		m := mustCreate(t, svc, "acme", "billing", "Billing")
		mustCreate(t, svc, "acme", "orders", "Orders")
		if _, err := svc.Update(ctx, "acme", m.ID, patch(t, `{"name":"orders"}`), 0); !errors.Is(err, derrors.ErrConflict) {
			t.Fatalf("rename onto a taken name: %v, want a conflict", err)
		}
		if got := types(events(t, svc, module.EventQuery{ModuleID: m.ID})); got != "module.created" {
			t.Errorf("trail %s; want only the create", got)
		}
	})
}

// TestEventQuery: paging with a signed cursor, the type filter and since.
func TestEventQuery(t *testing.T) {
	testenv.AllWithService(t, func(t *testing.T, ctx context.Context, svc *module.Service, b testenv.Backend) {
		clock := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		svc.Now = func() time.Time { clock = clock.Add(time.Minute); return clock }
		m := mustCreate(t, svc, "acme", "billing", "Billing")
		for i := range 6 {
			p := `{"enabled":false}`
			if i%2 == 1 {
				p = `{"enabled":true}`
			}
			if _, err := svc.Update(ctx, "acme", m.ID, patch(t, p), 0); err != nil {
				t.Fatal(err)
			}
		}
		var seen []string
		cursor := ""
		for range 10 {
			page, err := svc.Events(ctx, "acme", module.EventQuery{Limit: 3, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page.Items {
				seen = append(seen, e.ID)
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		if len(seen) != 7 {
			t.Errorf("paged through %d events; want 7", len(seen))
		}
		if got := types(events(t, svc, module.EventQuery{Type: audit.ModuleDisabled})); got != "module.disabled module.disabled module.disabled" {
			t.Errorf("type=module.disabled: %s", got)
		}
		since := events(t, svc, module.EventQuery{})[2].Time // the third newest, to the millisecond
		if got := events(t, svc, module.EventQuery{Since: since}); len(got) != 3 {
			t.Errorf("since %v: %d events (%s); want 3", since, len(got), types(got))
		}
		page, err := svc.Events(ctx, "acme", module.EventQuery{Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []module.EventQuery{
			{Limit: 3, Cursor: page.NextCursor, Type: audit.ModuleEnabled}, // another filter
			{Limit: 3, Cursor: page.NextCursor, ModuleID: m.ID},            // another trail
			{Limit: 0},
			{Limit: 3, Type: "module.renamed"},
		} {
			if _, err := svc.Events(ctx, "acme", q); !errors.Is(err, derrors.ErrInvalid) {
				t.Errorf("Events(%+v): %v; want ErrInvalid", q, err)
			}
		}
	})
}
