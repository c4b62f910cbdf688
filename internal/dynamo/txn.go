package dynamo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/module"
)

// txn collects the items of one TransactWriteItems call, each with its
// condition and what the condition's failure means.
type txn struct {
	items []types.TransactWriteItem
	fails []error // per item: the error its failed condition means, or nil
	err   error
}

// cond is a condition on one item of a transaction: an expression, its
// values, and the error its failure means (a derrors.ErrConflict naming
// the field in use, or a sentinel the caller knows). The zero cond is none.
type cond struct {
	expr   string
	values map[string]types.AttributeValue
	fail   error
}

// absent is the condition that the item does not exist yet.
func absent(fail error) cond { return cond{expr: "attribute_not_exists(PK)", fail: fail} }

// where is the condition expr, over values, failing with fail.
func where(expr string, fail error, values map[string]types.AttributeValue) cond {
	return cond{expr: expr, values: values, fail: fail}
}

func (c cond) expression() *string {
	if c.expr == "" {
		return nil
	}
	return aws.String(c.expr)
}

// put adds a Put of item under c.
func (t *txn) put(item any, c cond) {
	av, err := attributevalue.MarshalMap(item)
	if err != nil && t.err == nil {
		t.err = fmt.Errorf("encode item: %w", err)
	}
	t.add(types.TransactWriteItem{Put: &types.Put{Item: av, ConditionExpression: c.expression(), ExpressionAttributeValues: c.values}}, c)
}

// del adds a Delete of k under c.
func (t *txn) del(k map[string]types.AttributeValue, c cond) {
	t.add(types.TransactWriteItem{Delete: &types.Delete{Key: k, ConditionExpression: c.expression(), ExpressionAttributeValues: c.values}}, c)
}

// check adds a ConditionCheck of k.
func (t *txn) check(k map[string]types.AttributeValue, c cond) {
	t.add(types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{Key: k, ConditionExpression: c.expression(), ExpressionAttributeValues: c.values}}, c)
}

// replace adds an Update that sets every attribute of item except its key,
// and each of optional that item lacks to NULL, under c. Unlike a Put, it
// leaves alone attributes item does not own: a module's lastUsedAt, which
// only the token endpoint moves forward. NULL rather than REMOVE: it reads
// back as the zero value just the same, and the embedded stand-in
// (minidyn 0.8.2) ignores REMOVE, so a cleared member (scopes, keys, the
// DPoP switch) would come back on `make run`.
func (t *txn) replace(item any, optional []string, c cond) {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		if t.err == nil {
			t.err = fmt.Errorf("encode item: %w", err)
		}
		return
	}
	u := &types.Update{Key: map[string]types.AttributeValue{attrPK: av[attrPK], attrSK: av[attrSK]},
		ConditionExpression: c.expression(), ExpressionAttributeNames: map[string]string{},
		ExpressionAttributeValues: maps.Clone(c.values)}
	if u.ExpressionAttributeValues == nil {
		u.ExpressionAttributeValues = map[string]types.AttributeValue{}
	}
	var set []string
	for i, name := range slices.Sorted(maps.Keys(av)) {
		if name == attrPK || name == attrSK {
			continue
		}
		n, v := fmt.Sprintf("#a%d", i), fmt.Sprintf(":a%d", i)
		u.ExpressionAttributeNames[n], u.ExpressionAttributeValues[v] = name, av[name]
		set = append(set, n+" = "+v)
	}
	for i, name := range optional {
		if _, ok := av[name]; !ok {
			n, v := fmt.Sprintf("#r%d", i), fmt.Sprintf(":r%d", i)
			u.ExpressionAttributeNames[n], u.ExpressionAttributeValues[v] = name, &types.AttributeValueMemberNULL{Value: true}
			set = append(set, n+" = "+v)
		}
	}
	expr := "SET " + strings.Join(set, ", ")
	u.UpdateExpression = &expr
	t.add(types.TransactWriteItem{Update: u}, c)
}

func (t *txn) add(w types.TransactWriteItem, c cond) {
	t.items = append(t.items, w)
	if c.expr == "" {
		c.fail = nil
	}
	t.fails = append(t.fails, c.fail)
}

// maxAttempts bounds retries of a transaction cancelled only by contention
// (reason TransactionConflict), which DynamoDB asks callers to retry.
const maxAttempts = 5

// transactor is what commit calls: both StoreAPI and ClientAPI have it.
type transactor interface {
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

func (s *Store) commit(ctx context.Context, t *txn) error { return t.commit(ctx, s.DB, s.Table) }

// commit writes the transaction to table: every write of this package
// that spans items goes through here (Store's and Clients.Record), so all
// share one answer to contention (retried with backoff), to a failed
// condition (explain) and to an unknown outcome (module.ErrOutcomeUnknown).
func (t *txn) commit(ctx context.Context, db transactor, table string) error {
	if t.err != nil {
		return t.err
	}
	for i := range t.items {
		if p := t.items[i].Put; p != nil {
			p.TableName = &table
		}
		if d := t.items[i].Delete; d != nil {
			d.TableName = &table
		}
		if c := t.items[i].ConditionCheck; c != nil {
			c.TableName = &table
		}
		if u := t.items[i].Update; u != nil {
			u.TableName = &table
		}
	}
	for attempt := 1; ; attempt++ {
		// The token makes the SDK's own retries of this attempt idempotent:
		// DynamoDB answers a retry of a committed transaction with success,
		// not with the failed conditions of a second try. (minidyn and moto
		// ignore it, so the fault tests turn the SDK's retries off.)
		_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: t.items, ClientRequestToken: aws.String(rand.Text())})
		if err == nil {
			return nil
		}
		var cancelled *types.TransactionCanceledException
		if !errors.As(err, &cancelled) {
			if definite(err) {
				return fmt.Errorf("transact write: %w", err)
			}
			return fmt.Errorf("transact write: %w: %w", module.ErrOutcomeUnknown, err)
		}
		if failed := t.explain(cancelled.CancellationReasons); failed != nil {
			return failed
		}
		if attempt == maxAttempts {
			return fmt.Errorf("transact write after %d attempts: %w", attempt, err)
		}
		if err := retries.wait(ctx, attempt); err != nil {
			return err
		}
	}
}

// explain turns the cancellation reasons into the caller's error, or nil
// when no condition failed (contention only: retry). A sentinel wins over
// conflicts; conflicts are merged, so a 409 names every field in use.
func (t *txn) explain(reasons []types.CancellationReason) error {
	var taken []derrors.Field
	var sentinel error
	for i, r := range reasons {
		if i >= len(t.fails) || t.fails[i] == nil || aws.ToString(r.Code) != "ConditionalCheckFailed" {
			continue
		}
		if de, ok := errors.AsType[*derrors.Error](t.fails[i]); ok && errors.Is(de, derrors.ErrConflict) {
			taken = append(taken, de.Fields...)
		} else if sentinel == nil {
			sentinel = t.fails[i]
		}
	}
	switch {
	case sentinel != nil:
		return sentinel
	case len(taken) > 0:
		return derrors.Conflict(taken...)
	}
	return nil
}

// definite reports whether a failed write certainly did not happen: the SDK
// refused it before sending, or DynamoDB rejected it as the client's fault
// (validation, throttling, a missing table). A timeout, a dropped
// connection or a server error may follow a commit, and so does a
// transaction still in progress under the same token.
func definite(err error) bool {
	if _, ok := errors.AsType[*smithy.InvalidParamsError](err); ok {
		return true
	}
	api, ok := errors.AsType[smithy.APIError](err)
	return ok && api.ErrorFault() == smithy.FaultClient && api.ErrorCode() != "TransactionInProgressException"
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}
