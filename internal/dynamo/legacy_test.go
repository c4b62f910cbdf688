package dynamo_test

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/testing/testenv"
)

// TestModulesWithoutStoredKeys: modules written before guard keys were
// stored (their guards keyed by the old case folding) still rename and
// delete exactly their guards, and gain stored keys on their first write.
func TestModulesWithoutStoredKeys(t *testing.T) {
	testenv.AllWithService(t, func(t *testing.T, ctx context.Context, svc *module.Service, b testenv.Backend) {
		modem := legacyModule(t, b, svc, "Modem", "Modem Box")
		alpha := legacyModule(t, b, svc, "Alpha", "Alpha One")
		if got := guards(t, b); !slices.Equal(got, []string{"DISPLAY#alpha one", "DISPLAY#modem box", "NAME#alpha", "NAME#modem"}) {
			t.Fatalf("legacy guards %v", got)
		}

		renamed, err := svc.Update(ctx, "acme", modem.ID, module.Patch{"name": []byte(`"router"`)}, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"DISPLAY#alpha one", "DISPLAY#" + module.UniqueKey("Modem Box"), "NAME#alpha", "NAME#router"}
		sort.Strings(want)
		if got := guards(t, b); !slices.Equal(got, want) {
			t.Errorf("after renaming a legacy module: guards %v, want %v", got, want)
		}
		if stored, _ := svc.Get(ctx, "acme", renamed.ID); stored.NameKey != "router" || stored.DisplayKey == "" {
			t.Errorf("the renamed module stores keys %q, %q", stored.NameKey, stored.DisplayKey)
		}
		if err := svc.Delete(ctx, "acme", alpha.ID, 0); err != nil {
			t.Fatal(err)
		}
		if got := guards(t, b); len(got) != 2 || slices.Contains(got, "NAME#alpha") {
			t.Errorf("after deleting a legacy module: guards %v, want only the router's", got)
		}
		mustCreate := func(name, display string) {
			if _, _, err := svc.Create(ctx, "acme", module.CreateInput{Name: name, DisplayName: display, ClientSecret: "Known-Secret-4711-xyz"}, ""); err != nil {
				t.Errorf("create %s: %v (a name left blocked)", name, err)
			}
		}
		mustCreate("modem", "Modem Box 2")
		mustCreate("alpha", "Alpha One")

		// the one-off migration: keys for the rest, look-alikes reported
		legacyModule(t, b, svc, "gamma", "Gamma")
		legacyModule(t, b, svc, "gаmma2", "Gamma 2") // Cyrillic а: distinct under the old rule
		legacyModule(t, b, svc, "gamma2", "Gamma Two")
		migrated, left, err := svc.MigrateGuards(ctx)
		if err != nil || migrated != 2 || len(left) != 1 {
			t.Fatalf("MigrateGuards = %d migrated, left %v, %v; want 2 and 1 left", migrated, left, err)
		}
		if rest, _ := svc.Migration.WithoutGuardKeys(ctx); len(rest) != 1 {
			t.Errorf("%d modules still without keys, want the one left", len(rest))
		}
		if _, _, err := svc.Create(ctx, "acme", module.CreateInput{Name: "gаmma", DisplayName: "Another", ClientSecret: "Known-Secret-4711-xyz"}, ""); err == nil {
			t.Error("a look-alike of a migrated module's name was created")
		}
	})
}

// legacyModule creates a module and rewrites it as version 1 of the
// service stored it: no keys on the item, guards keyed by case folding.
func legacyModule(t *testing.T, b testenv.Backend, svc *module.Service, name, display string) module.Module {
	t.Helper()
	ctx := context.Background()
	c, _, err := svc.Create(ctx, "acme", module.CreateInput{Name: name, DisplayName: display, ClientSecret: "Known-Secret-4711-xyz"}, "")
	if err != nil {
		t.Fatal(err)
	}
	pk := &types.AttributeValueMemberS{Value: "TENANT#acme"}
	key := func(sk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"PK": pk, "SK": &types.AttributeValueMemberS{Value: sk}}
	}
	item, err := b.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &b.Table, Key: key("MODULE#" + c.ID), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	delete(item.Item, "nameKey")
	delete(item.Item, "displayKey")
	if _, err := b.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &b.Table, Item: item.Item}); err != nil {
		t.Fatal(err)
	}
	for prefix, v := range map[string]string{"NAME#": name, "DISPLAY#": display} {
		if _, err := b.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &b.Table, Key: key(prefix + module.UniqueKey(v))}); err != nil {
			t.Fatal(err)
		}
		legacy := key(prefix + strings.ToLower(v))
		legacy["moduleId"] = &types.AttributeValueMemberS{Value: c.ID}
		if _, err := b.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &b.Table, Item: legacy}); err != nil {
			t.Fatal(err)
		}
	}
	return c.Module
}

// guards lists the sort keys of the tenant's name guards.
func guards(t *testing.T, b testenv.Backend) []string {
	t.Helper()
	out, err := b.DB.Query(context.Background(), &dynamodb.QueryInput{TableName: &b.Table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "TENANT#acme"}}})
	if err != nil {
		t.Fatal(err)
	}
	var sks []string
	for _, it := range out.Items {
		if sk := it["SK"].(*types.AttributeValueMemberS).Value; strings.HasPrefix(sk, "NAME#") || strings.HasPrefix(sk, "DISPLAY#") {
			sks = append(sks, sk)
		}
	}
	sort.Strings(sks)
	return sks
}

// TestManagersWithoutMarkers: managers stored before manager markers were
// kept are not seen by the last-manager check, which then refuses (never
// lets the last go); MigrateGuards writes their markers, after which one
// of two may be disabled and the other may not.
func TestManagersWithoutMarkers(t *testing.T) {
	testenv.AllWithService(t, func(t *testing.T, ctx context.Context, svc *module.Service, b testenv.Backend) {
		var managers []module.Module
		for _, name := range []string{"boss-one", "boss-two"} {
			c, _, err := svc.Create(ctx, "acme", module.CreateInput{Name: name, DisplayName: name, ClientSecret: "Known-Secret-4711-xyz",
				Scopes: []string{module.ScopeManage}}, "")
			if err != nil {
				t.Fatal(err)
			}
			managers = append(managers, c.Module)
			// as stored before markers: the module without its marker
			if _, err := b.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &b.Table, Key: map[string]types.AttributeValue{
				"PK": &types.AttributeValueMemberS{Value: "TENANT#acme"}, "SK": &types.AttributeValueMemberS{Value: "MANAGER#" + c.ID}}}); err != nil {
				t.Fatal(err)
			}
		}
		disable := func(m module.Module) error {
			_, err := svc.Update(ctx, "acme", m.ID, module.Patch{"enabled": []byte("false")}, 0)
			return err
		}
		if err := disable(managers[0]); !errors.Is(err, derrors.ErrConflict) {
			t.Fatalf("disabling a manager before the migration: %v, want a conflict (no marker seen)", err)
		}
		migrated, left, err := svc.MigrateGuards(ctx)
		if err != nil || migrated != 2 || len(left) != 0 {
			t.Fatalf("MigrateGuards = %d, %v, %v; want 2 migrated", migrated, left, err)
		}
		if err := disable(managers[0]); err != nil {
			t.Fatalf("disabling one of two managers after the migration: %v", err)
		}
		if err := disable(managers[1]); !errors.Is(err, derrors.ErrConflict) {
			t.Errorf("disabling the last manager: %v, want a conflict", err)
		}
		if other, err := svc.Writes.OtherManager(ctx, "acme", ""); err != nil || other != managers[1].ID {
			t.Errorf("OtherManager = %q, %v; want %s (the disabled one's marker gone)", other, err, managers[1].ID)
		}
	})
}
