package samtemplate_test

import (
	"context"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modules-service/modules/internal/audit"
	"github.com/modules-service/modules/internal/dynamo"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/testing/testenv"
	"github.com/modules-service/modules/internal/wiring"
)

// TestCodeWritesWhatThePolicyAllows runs each function's writes (its
// store calls, on the embedded backend) and checks every write request,
// one by one inside each transaction, against whoWritesWhat: the table
// TestWhoWritesWhat holds template.yaml to. Nothing runs IAM locally, so
// without this a write the policy refuses would first fail in AWS.
func TestCodeWritesWhatThePolicyAllows(t *testing.T) {
	b := testenv.Embedded(t)
	ctx := audit.WithOrigin(t.Context(), audit.Origin{Actor: audit.Actor{Kind: "manager", TenantID: "acme"}, UserAgent: "test"})
	rec := &recorder{DynamoDB: b.DB}
	svc := &module.Service{Stores: module.StoresOf(&dynamo.Store{DB: rec, Table: b.Table}), Secrets: b.Secrets, Hasher: testenv.FastHasher,
		SecretPrefix: b.SecretPrefix, IdempotencyKey: testenv.IdempotencyKey}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	create := func(name string, scopes ...string) module.Module {
		t.Helper()
		c, _, err := svc.Create(ctx, "acme", module.CreateInput{Name: name, DisplayName: name, ClientSecret: "Known-Secret-4711-xyz", Scopes: scopes}, "key-"+name)
		must(err)
		return c.Module
	}
	patch := func(members string) module.Patch {
		p := module.Patch{}
		for _, kv := range strings.Split(members, ";") {
			k, v, _ := strings.Cut(kv, "=")
			p[k] = []byte(v)
		}
		return p
	}
	clients, limits := &dynamo.Clients{DB: rec, Table: b.Table}, &dynamo.Limits{DB: rec, Table: b.Table}
	var first, second module.Module
	for _, step := range []struct {
		function string
		run      func()
	}{
		{"CreateModuleFunction", func() {
			first, second = create("billing", module.ScopeManage), create("orders", module.ScopeManage, "read")
		}},
		{"UpdateModuleFunction", func() {
			// a rename of both names, scopes emptied (a REMOVE), the manager
			// scope given up while another manager must remain, then disabled
			_, err := svc.Update(ctx, "acme", first.ID, patch(`name="invoicing";displayName="Invoicing";scopes=[]`), 0)
			must(err)
			_, err = svc.Update(ctx, "acme", first.ID, patch(`enabled=false;userLogin={"enabled":true,"redirectUris":["https://a.example/cb"]}`), 0)
			must(err)
			_, err = svc.Update(ctx, "acme", second.ID, patch(`dpopBoundAccessTokens=true`), 0)
			must(err)
			_, err = svc.Update(ctx, "acme", second.ID, patch(`dpopBoundAccessTokens=false`), 0) // a REMOVE
			must(err)
		}},
		{"ListModulesFunction", func() {
			_, err := svc.List(ctx, "acme", module.ListQuery{Limit: 1})
			must(err)
			_, err = svc.Events(ctx, "acme", module.EventQuery{Limit: 1})
			must(err)
		}},
		{"TokenFunction", func() {
			now := time.Now()
			for _, src := range []string{"198.51.100.7", ""} { // a source's counter, the client's
				_, _, err := limits.Reserve(ctx, second.ClientID, src, now, 5*time.Minute, 10, 0)
				must(err)
				must(limits.Release(ctx, second.ClientID, src, now))
			}
			_, _, err := limits.Reserve(ctx, "", "198.51.100.7", now, 5*time.Minute, 10, 0) // unknown client IDs
			must(err)
			must(limits.Fail(ctx, second.ClientID, "198.51.100.7", now))
			_, _, err = limits.Slot(ctx, second.ClientID, now, 6*time.Second)
			must(err)
			must(limits.Remember(ctx, second.ClientID, "198.51.100.7", now, now.Add(time.Hour)))
			_, err = limits.Once(ctx, second.ClientID, string(audit.ClientThrottled), now)
			must(err)
			must(clients.Used(ctx, "acme", second.ID, now))
			ev := audit.New(ctx, audit.ClientThrottled, now, "acme", second.ID, second.Name)
			must(clients.Record(ctx, ev))
			_, err = limits.FirstUse(ctx, second.ClientID, "dpop a-proof", now.Add(time.Minute)) // a DPoP proof's jti
			must(err)
		}},
		{"AuthorizerFunction", func() {
			_, err := (&dynamo.Proofs{DB: rec, Table: b.Table}).FirstUse(ctx, second.ClientID, "a-proof", time.Now().Add(time.Minute))
			must(err)
		}},
		{"DeleteModuleFunction", func() {
			create("shipping", module.ScopeManage)
			rec.take()                                  // that create is create-module's
			must(svc.Delete(ctx, "acme", second.ID, 0)) // a manager, while third remains one
		}},
		{"ReaperFunction", func() {
			// the pending record the delete left, an hour later
			reaper := &module.Service{Stores: svc.Stores, Secrets: svc.Secrets, SecretPrefix: svc.SecretPrefix,
				Now: func() time.Time { return time.Now().Add(time.Hour) }}
			n, err := reaper.Reap(ctx)
			must(err)
			if n != 1 {
				t.Errorf("reaper deleted %d hashes, want the deleted module's", n)
			}
		}},
	} {
		rec.take()
		step.run()
		writes := rec.take()
		if len(writes) == 0 {
			t.Errorf("%s: no writes recorded", step.function)
		}
		for _, w := range writes {
			if !allowed(whoWritesWhat[step.function], w) {
				t.Errorf("%s writes %s %s %v (return values %q): whoWritesWhat (and so its policy) does not allow it", step.function, w.action, w.pk, w.attributes, w.returnValues)
			}
		}
	}
}

// write is one write request as IAM authorises it.
type write struct {
	action, pk, returnValues string
	attributes               []string // every top-level attribute it names
}

func allowed(grants []grant, w write) bool {
	for _, g := range grants {
		if g.Action != w.action {
			continue
		}
		if ok, _ := path.Match(g.Prefix, w.pk); !ok && g.Prefix != "*" {
			continue
		}
		if g.Attributes != "" && slices.ContainsFunc(w.attributes, func(a string) bool { return !slices.Contains(strings.Fields(g.Attributes), a) }) {
			continue
		}
		if g.ReturnValues != "" && w.returnValues != "" && w.returnValues != g.ReturnValues {
			continue
		}
		return true
	}
	return false
}

// recorder records the write requests the code sends, then sends them.
type recorder struct {
	wiring.DynamoDB
	mu     sync.Mutex
	writes []write
}

func (r *recorder) take() []write {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.writes
	r.writes = nil
	return w
}

func (r *recorder) add(action string, key map[string]types.AttributeValue, item map[string]types.AttributeValue, names map[string]string, returnValues string, exprs ...*string) {
	w := write{action: action, returnValues: returnValues}
	if key == nil {
		key = item
	}
	if pk, ok := key["PK"].(*types.AttributeValueMemberS); ok {
		w.pk = pk.Value
	}
	seen := map[string]bool{}
	for k := range key {
		seen[k] = true
	}
	for k := range item {
		seen[k] = true
	}
	for _, n := range names {
		seen[n] = true
	}
	for _, e := range exprs {
		if e == nil {
			continue
		}
		for _, m := range identifier.FindAllStringSubmatch(*e, -1) {
			if !slices.Contains(keywords, strings.ToLower(m[2])) && m[1] != ":" && m[1] != "#" {
				seen[m[2]] = true
			}
		}
	}
	for k := range seen {
		w.attributes = append(w.attributes, k)
	}
	slices.Sort(w.attributes)
	r.mu.Lock()
	r.writes = append(r.writes, w)
	r.mu.Unlock()
}

// identifier finds the names in an expression; a name after ':' or '#' is
// a placeholder (whose attribute ExpressionAttributeNames holds).
var identifier = regexp.MustCompile(`(^|[^A-Za-z0-9_])([A-Za-z_][A-Za-z0-9_]*)`)

var keywords = []string{"and", "or", "not", "between", "in", "set", "remove", "add", "delete",
	"attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains", "size", "if_not_exists", "list_append"}

func (r *recorder) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	r.add("PutItem", nil, in.Item, in.ExpressionAttributeNames, string(in.ReturnValues), in.ConditionExpression)
	return r.DynamoDB.PutItem(ctx, in, o...)
}

func (r *recorder) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	r.add("UpdateItem", in.Key, nil, in.ExpressionAttributeNames, string(in.ReturnValues), in.UpdateExpression, in.ConditionExpression)
	return r.DynamoDB.UpdateItem(ctx, in, o...)
}

func (r *recorder) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	r.add("DeleteItem", in.Key, nil, in.ExpressionAttributeNames, string(in.ReturnValues), in.ConditionExpression)
	return r.DynamoDB.DeleteItem(ctx, in, o...)
}

func (r *recorder) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	for _, it := range in.TransactItems {
		switch {
		case it.Put != nil:
			r.add("PutItem", nil, it.Put.Item, it.Put.ExpressionAttributeNames, "", it.Put.ConditionExpression)
		case it.Update != nil:
			r.add("UpdateItem", it.Update.Key, nil, it.Update.ExpressionAttributeNames, "", it.Update.UpdateExpression, it.Update.ConditionExpression)
		case it.Delete != nil:
			r.add("DeleteItem", it.Delete.Key, nil, it.Delete.ExpressionAttributeNames, "", it.Delete.ConditionExpression)
		case it.ConditionCheck != nil:
			r.add("ConditionCheckItem", it.ConditionCheck.Key, nil, it.ConditionCheck.ExpressionAttributeNames, "", it.ConditionCheck.ConditionExpression)
		}
	}
	return r.DynamoDB.TransactWriteItems(ctx, in, o...)
}
