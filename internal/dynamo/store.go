// Package dynamo stores modules in one DynamoDB table. The same code runs
// against AWS, moto and the embedded minidyn server.
package dynamo

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modules-service/modules/internal/audit"
	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/module"
)

// StoreAPI is the part of the DynamoDB client the store calls.
type StoreAPI interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	// UpdateItem and DeleteItem serve only the reaper (pending records).
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	// Scan serves only the operator's one-off migration; no function's
	// IAM policy allows it.
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// Store implements every storage role of module (module.Store) over one
// table.
type Store struct {
	DB    StoreAPI
	Table string
}

var _ module.Store = (*Store)(nil)

// Get implements module.Reader.
func (s *Store) Get(ctx context.Context, tenantID, id string) (module.Module, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &s.Table,
		Key:            key(tenantPK(tenantID), moduleSK(id)),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return module.Module{}, fmt.Errorf("get item: %w", err)
	}
	if out.Item == nil {
		return module.Module{}, derrors.ErrNotFound
	}
	var it moduleItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return module.Module{}, fmt.Errorf("decode module %s: %w", id, err)
	}
	return it.module(), nil
}

// List implements module.Reader: a page of module items, in ID order.
func (s *Store) List(ctx context.Context, tenantID, after string, limit int) ([]module.Module, bool, error) {
	if after != "" {
		after = moduleSK(after)
	}
	items, more, err := query[moduleItem](ctx, s, tenantPK(tenantID), moduleSK(""), after, limit)
	if err != nil {
		return nil, false, fmt.Errorf("query modules: %w", err)
	}
	mods := make([]module.Module, len(items))
	for i, it := range items {
		mods[i] = it.module()
	}
	return mods, more, nil
}

// Create implements module.Writer.
func (s *Store) Create(ctx context.Context, m module.Module, idem *module.IdempotencyRecord, ev audit.Event) error {
	var tx txn
	tx.addEvent(ev)
	tx.put(toItem(m), absent(errCollided))
	tx.put(guardItem{tenantPK(m.TenantID), nameSK(m.NameKey), m.ID}, absent(derrors.Conflict(module.NameTaken(m.Name))))
	tx.put(guardItem{tenantPK(m.TenantID), displaySK(m.DisplayKey), m.ID}, absent(derrors.Conflict(module.DisplayNameTaken(m.DisplayName))))
	tx.put(clientItem(m), absent(errCollided))
	for _, o := range orderItems(m) {
		tx.put(o, cond{})
	}
	if m.Enabled && m.IsManager() {
		tx.marker(m)
	}
	tx.del(pendingKey(module.PendingOf(m, m.CreatedAt)), notReaped()) // the module has its hash now
	if idem != nil {
		tx.put(idempotencyItem{
			PK: tenantPK(idem.TenantID), SK: idempotencySK(hashKey(idem.Key)),
			ModuleID: idem.ModuleID, Fingerprint: idem.Fingerprint, TTL: idem.ExpiresAt.Unix(),
		}, absent(module.ErrIdempotencyKeyTaken))
	}
	return s.commit(ctx, &tx)
}

// Taken implements module.Writer: the two guards, read strongly consistent.
func (s *Store) Taken(ctx context.Context, tenantID, nameKey, displayKey string) (name, display bool, err error) {
	for _, g := range []struct {
		sk    string
		taken *bool
	}{{nameSK(nameKey), &name}, {displaySK(displayKey), &display}} {
		out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.Table, Key: key(tenantPK(tenantID), g.sk),
			ConsistentRead: aws.Bool(true), ProjectionExpression: aws.String("PK")})
		if err != nil {
			return false, false, fmt.Errorf("get guard: %w", err)
		}
		*g.taken = out.Item != nil
	}
	return name, display, nil
}

// OtherManager implements module.Writer: two manager markers, whichever
// the tenant has, are enough to name one that is not exceptID.
func (s *Store) OtherManager(ctx context.Context, tenantID, exceptID string) (string, error) {
	out, err := s.DB.Query(ctx, &dynamodb.QueryInput{
		TableName:              &s.Table,
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(tenantPK(tenantID)), ":prefix": str(managerSK("")),
		},
		Limit:          aws.Int32(2),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return "", fmt.Errorf("query manager markers: %w", err)
	}
	for _, raw := range out.Items {
		var mk guardItem
		if err := attributevalue.UnmarshalMap(raw, &mk); err != nil {
			return "", fmt.Errorf("decode manager marker: %w", err)
		}
		if mk.ModuleID != exceptID {
			return mk.ModuleID, nil
		}
	}
	return "", nil
}

// marker puts m's manager marker when m is an enabled manager and deletes
// it otherwise (deleting none is no error): whatever it was before, it is
// right after the transaction.
func (t *txn) marker(m module.Module) {
	if m.Enabled && m.IsManager() {
		t.put(guardItem{tenantPK(m.TenantID), managerSK(m.ID), m.ID}, cond{})
	} else {
		t.del(key(tenantPK(m.TenantID), managerSK(m.ID)), cond{})
	}
}

// WithoutGuardKeys implements module.Migrator with a Scan: a one-off
// migration (infra/admin migrate-guards), never a request's path. It also
// returns the enabled managers, whose markers the migration writes.
func (s *Store) WithoutGuardKeys(ctx context.Context) ([]module.Module, error) {
	in := &dynamodb.ScanInput{
		TableName: &s.Table,
		// enabled ones are kept for their scopes below (minidyn's contains
		// fails on an item without scopes)
		FilterExpression: aws.String("begins_with(SK, :prefix) AND (attribute_not_exists(nameKey) OR enabled = :t)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":prefix": str(moduleSK("")),
			":t": &types.AttributeValueMemberBOOL{Value: true}},
		ConsistentRead: aws.Bool(true),
	}
	var out []module.Module
	err := eachScanned(ctx, s.DB, in, func(it moduleItem) (bool, error) {
		if m := it.module(); m.NameKey == "" || m.Enabled && m.IsManager() {
			out = append(out, m)
		}
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan modules: %w", err)
	}
	return out, nil
}

// errCollided is a generated module ID or client ID that exists already:
// with 128 random bits it does not happen, and if it did it would be a
// server fault (500), not the caller's.
var errCollided = errors.New("a generated ID collided with an existing one")

// atVersion is the condition that the module is at version v.
func atVersion(v int64) cond {
	return where("version = :v", derrors.ErrPreconditionFailed, map[string]types.AttributeValue{":v": num(v)})
}

// heldBy is the condition that a guard is the module's.
func heldBy(moduleID string) cond {
	return where("moduleId = :id", derrors.ErrPreconditionFailed, map[string]types.AttributeValue{":id": str(moduleID)})
}

// keepManager adds a check that module id of the tenant is still an
// enabled manager when the transaction commits.
func (t *txn) keepManager(tenantID, id string) {
	if id == "" {
		return
	}
	t.check(key(tenantPK(tenantID), moduleSK(id)), where("enabled = :t AND attribute_exists(scopes) AND contains(scopes, :manage)", module.ErrManagerGone,
		map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}, ":manage": str(module.ScopeManage)}))
}

// Update implements module.Writer.
func (s *Store) Update(ctx context.Context, old, m module.Module, keep string, ev *audit.Event) error {
	var tx txn
	if ev != nil {
		tx.addEvent(*ev)
	}
	tx.keepManager(m.TenantID, keep)
	tx.replace(toItem(m), moduleOptional, atVersion(old.Version))
	pk := tenantPK(m.TenantID)
	oldName, oldDisplay := old.GuardKeys() // exactly the guards written, whatever UniqueKey says today
	if from, to := oldName, m.NameKey; from != to {
		tx.del(key(pk, nameSK(from)), heldBy(m.ID))
		tx.put(guardItem{pk, nameSK(to), m.ID}, absent(derrors.Conflict(module.NameTaken(m.Name))))
	}
	if from, to := oldDisplay, m.DisplayKey; from != to {
		tx.del(key(pk, displaySK(from)), heldBy(m.ID))
		tx.put(guardItem{pk, displaySK(to), m.ID}, absent(derrors.Conflict(module.DisplayNameTaken(m.DisplayName))))
	}
	tx.put(clientItem(m), cond{})
	// Order items are put even when unchanged: a module stored before they
	// were kept gets them on its first write (or by infra/admin migrate-guards).
	for i, o := range orderItems(m) {
		if was := orderItems(old)[i]; was.SK != o.SK {
			tx.del(key(pk, was.SK), cond{})
		}
		tx.put(o, cond{})
	}
	// Put or deleted even when unchanged, as order items are.
	tx.marker(m)
	return s.commit(ctx, &tx)
}

// Delete implements module.Writer.
func (s *Store) Delete(ctx context.Context, m module.Module, keep string, ev audit.Event) error {
	var tx txn
	tx.addEvent(ev)
	tx.keepManager(m.TenantID, keep)
	pk := tenantPK(m.TenantID)
	tx.del(key(pk, moduleSK(m.ID)), atVersion(m.Version))
	name, display := m.GuardKeys()
	tx.del(key(pk, nameSK(name)), cond{})
	tx.del(key(pk, displaySK(display)), cond{})
	tx.del(key(clientPK(m.ClientID), clientSK), cond{})
	for _, o := range orderItems(m) {
		tx.del(key(pk, o.SK), cond{})
	}
	tx.del(key(pk, managerSK(m.ID)), cond{})
	// if the hash's deletion never happens, the reaper finds it here
	tx.put(toPendingItem(module.PendingOf(m, ev.Time)), cond{})
	return s.commit(ctx, &tx)
}

// Idempotency implements module.IdempotencyStore. An expired record counts as absent:
// DynamoDB's TTL deletes lazily.
func (s *Store) Idempotency(ctx context.Context, tenantID, k string) (module.IdempotencyRecord, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &s.Table,
		Key:            key(tenantPK(tenantID), idempotencySK(hashKey(k))),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return module.IdempotencyRecord{}, fmt.Errorf("get idempotency record: %w", err)
	}
	var it idempotencyItem
	if out.Item != nil {
		if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
			return module.IdempotencyRecord{}, fmt.Errorf("decode idempotency record: %w", err)
		}
	}
	if out.Item == nil || time.Unix(it.TTL, 0).Before(time.Now()) {
		return module.IdempotencyRecord{}, derrors.ErrNotFound
	}
	return module.IdempotencyRecord{TenantID: tenantID, Key: k, ModuleID: it.ModuleID, Fingerprint: it.Fingerprint, ExpiresAt: time.Unix(it.TTL, 0)}, nil
}

// CursorKey implements module.CursorStore: 32 random bytes written once, by
// whichever instance comes first.
func (s *Store) CursorKey(ctx context.Context) ([]byte, error) {
	k := key("CONFIG", "CURSOR_KEY")
	for range 2 {
		out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.Table, Key: k, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return nil, fmt.Errorf("get cursor key: %w", err)
		}
		if b, ok := out.Item["key"].(*types.AttributeValueMemberB); ok {
			return b.Value, nil
		}
		secret := make([]byte, 32)
		_, _ = rand.Read(secret) // never fails (Go 1.24+)
		item := map[string]types.AttributeValue{attrPK: k[attrPK], attrSK: k[attrSK], "key": &types.AttributeValueMemberB{Value: secret}}
		_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.Table, Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")})
		if err != nil && !isConditionFailed(err) {
			return nil, fmt.Errorf("put cursor key: %w", err)
		}
	}
	return nil, errors.New("cursor key vanished")
}

// hashKey keeps client-chosen idempotency keys out of the sort key.
func hashKey(k string) string {
	sum := sha256.Sum256([]byte(k))
	return hex.EncodeToString(sum[:])
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(pk), attrSK: str(sk)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: fmt.Sprint(n)}
}
