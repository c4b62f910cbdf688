package dynamo_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"

	"github.com/modules-service/modules/internal/audit"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/testing/testenv"
)

// TestCredentialEventsJoinTheTrail: the token function's credential events
// live in partitions of their own (CREDEVENTS#, which its IAM policy may
// write; EVENTS#, which it may not), and the trail reads them merged in
// time order with the module events, page by page with the same cursor,
// with the module and type filters. A module event forged into a
// credential partition is not shown.
func TestCredentialEventsJoinTheTrail(t *testing.T) {
	testenv.AllWithService(t, func(t *testing.T, ctx context.Context, svc *module.Service, b testenv.Backend) {
		clock := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
		tick := func() time.Time { clock = clock.Add(time.Minute); return clock }
		svc.Now = tick
		credential := func(typ audit.Type, m module.Module) {
			t.Helper()
			ev := audit.New(ctx, typ, tick(), "acme", m.ID, m.Name)
			ev.Actor, ev.Outcome = audit.Actor{Kind: "client", ClientID: m.ClientID}, audit.Refused
			if err := b.Clients().Record(ctx, ev); err != nil {
				t.Fatalf("record %s: %v", typ, err)
			}
		}
		billing := mustCreate(t, ctx, svc, "billing") // module.created
		credential(audit.ClientThrottled, billing)    // client.throttled
		orders := mustCreate(t, ctx, svc, "orders")   // module.created
		credential(audit.ClientThrottled, orders)     // client.throttled
		if _, err := svc.Update(ctx, "acme", billing.ID, module.Patch{"enabled": []byte("false")}, 0); err != nil {
			t.Fatal(err) // module.disabled
		}
		credential(audit.ClientAuthenticatedAfterGuarding, billing)

		type row struct{ Type, Module string }
		rows := func(evs []audit.Event) []row {
			var out []row
			for _, e := range evs {
				out = append(out, row{string(e.Type), e.ModuleName})
			}
			return out
		}
		all := []row{
			{"client.authenticated_after_guarding", "billing"}, {"module.disabled", "billing"},
			{"client.throttled", "orders"}, {"module.created", "orders"},
			{"client.throttled", "billing"}, {"module.created", "billing"},
		}
		for _, tt := range []struct {
			name string
			q    module.EventQuery
			want []row
		}{
			{"tenant trail", module.EventQuery{}, all},
			{"module trail", module.EventQuery{ModuleID: billing.ID}, []row{all[0], all[1], all[4], all[5]}},
			{"credential type", module.EventQuery{Type: audit.ClientThrottled}, []row{all[2], all[4]}},
			{"module type, one module", module.EventQuery{Type: audit.ModuleCreated, ModuleID: orders.ID}, []row{all[3]}},
		} {
			for _, limit := range []int{1, 2, 4, module.MaxLimit} {
				var got []audit.Event
				q := tt.q
				q.Limit = limit
				for range 10 {
					page, err := svc.Events(ctx, "acme", q)
					if err != nil {
						t.Fatalf("%s, limit %d: %v", tt.name, limit, err)
					}
					got = append(got, page.Items...)
					if q.Cursor = page.NextCursor; q.Cursor == "" {
						break
					}
				}
				if diff := cmp.Diff(tt.want, rows(got)); diff != "" {
					t.Errorf("%s in pages of %d (-want +got):\n%s", tt.name, limit, diff)
				}
				for i := 1; i < len(got); i++ {
					if got[i-1].ID <= got[i].ID {
						t.Errorf("%s in pages of %d: %s before %s, not newest first", tt.name, limit, got[i-1].ID, got[i].ID)
					}
				}
			}
		}
		// Since the second credential event (two minutes before the last): it
		// and what followed.
		page, err := svc.Events(ctx, "acme", module.EventQuery{Limit: module.MaxLimit, Since: clock.Add(-2 * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(all[:3], rows(page.Items)); diff != "" {
			t.Errorf("since the second credential event (-want +got):\n%s", diff)
		}

		// Where the items are: credential events under CREDEVENTS# only.
		out, err := b.DB.Scan(ctx, &dynamodb.ScanInput{TableName: &b.Table})
		if err != nil {
			t.Fatal(err)
		}
		pks := map[string]int{}
		shard := regexp.MustCompile(`^CREDEVENTS#acme(#[0-9]{1,2})?$`) // the tenant trail's shards
		for _, item := range out.Items {
			var it struct{ PK, Type string }
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(it.Type, "client.") {
				pks[shard.ReplaceAllString(it.PK, "CREDEVENTS#acme#<shard>")]++
			}
		}
		want := map[string]int{"CREDEVENTS#acme#<shard>": 3, "CREDEVENTS#acme#" + billing.ID: 2, "CREDEVENTS#acme#" + orders.ID: 1}
		if diff := cmp.Diff(want, pks); diff != "" {
			t.Errorf("partitions of the credential events (-want +got):\n%s", diff)
		}

		// The token function's store writes credential events only, and a
		// module event put into a credential partition is not read.
		forged := audit.New(ctx, audit.ModuleDeleted, tick(), "acme", billing.ID, "billing")
		if err := b.Clients().Record(ctx, forged); err == nil {
			t.Error("Record wrote a module.deleted event")
		}
		item, err := attributevalue.MarshalMap(map[string]any{"PK": "CREDEVENTS#acme", "SK": forged.ID, "type": string(forged.Type),
			"time": forged.Time, "tenantId": "acme", "moduleId": billing.ID, "moduleName": "billing", "outcome": audit.Success})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &b.Table, Item: item}); err != nil {
			t.Fatal(err)
		}
		page, err = svc.Events(ctx, "acme", module.EventQuery{Limit: module.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(all, rows(page.Items)); diff != "" {
			t.Errorf("with a module.deleted forged into the credential trail (-want +got):\n%s", diff)
		}
	})
}

func mustCreate(t *testing.T, ctx context.Context, svc *module.Service, name string) module.Module {
	t.Helper()
	m, _, err := svc.Create(ctx, "acme", module.CreateInput{Name: name, DisplayName: name, ClientSecret: "Known-Secret-4711-xyz"}, "")
	if err != nil {
		t.Fatal(err)
	}
	return m.Module
}
