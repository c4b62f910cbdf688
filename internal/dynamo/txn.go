package dynamo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	mathrand "math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/module"
)

// txn collects the items of one TransactWriteItems call and, for each, what
// it means when its condition fails: a taken field (a 409 naming it) or a
// sentinel error.
type txn struct {
	items  []types.TransactWriteItem
	onFail []any // derrors.Field, error, or nil for items without a condition
	err    error
}

// put adds a Put of item under cond; taken names the field that is in use
// when cond fails.
func (t *txn) put(item any, cond string, taken derrors.Field, vals ...any) {
	t.add(item, nil, cond, taken, vals)
}

// putAs is put whose failed condition means err.
func (t *txn) putAs(item any, cond string, err error, vals ...any) { t.add(item, nil, cond, err, vals) }

// check adds a ConditionCheck of k; a failed cond means err.
func (t *txn) check(k map[string]types.AttributeValue, cond string, err error, vals ...any) {
	t.add(nil, k, cond, err, vals)
	last := &t.items[len(t.items)-1]
	last.ConditionCheck = &types.ConditionCheck{Key: k, ConditionExpression: last.Delete.ConditionExpression, ExpressionAttributeValues: last.Delete.ExpressionAttributeValues}
	last.Delete = nil
}

// del adds a Delete of k under cond (if any).
func (t *txn) del(k map[string]types.AttributeValue, cond string, err error, vals ...any) {
	t.add(nil, k, cond, err, vals)
}

// replace adds an Update that sets every attribute of item except its key
// and removes each of optional that item lacks, under cond (a failed cond
// means err). Unlike a Put, it leaves alone attributes item does not own:
// a module's lastUsedAt, which only the token endpoint moves forward.
func (t *txn) replace(item any, optional []string, cond string, err error, vals ...any) {
	t.add(item, nil, cond, err, vals)
	last := &t.items[len(t.items)-1]
	put := last.Put
	last.Put = nil
	if put.Item == nil {
		return // t.err says why
	}
	u := &types.Update{Key: map[string]types.AttributeValue{attrPK: put.Item[attrPK], attrSK: put.Item[attrSK]},
		ConditionExpression: put.ConditionExpression, ExpressionAttributeNames: map[string]string{},
		ExpressionAttributeValues: put.ExpressionAttributeValues}
	if u.ExpressionAttributeValues == nil {
		u.ExpressionAttributeValues = map[string]types.AttributeValue{}
	}
	names := slices.Sorted(maps.Keys(put.Item))
	var set, remove []string
	for i, name := range names {
		if name == attrPK || name == attrSK {
			continue
		}
		n, v := fmt.Sprintf("#a%d", i), fmt.Sprintf(":a%d", i)
		u.ExpressionAttributeNames[n], u.ExpressionAttributeValues[v] = name, put.Item[name]
		set = append(set, n+" = "+v)
	}
	for i, name := range optional {
		if _, ok := put.Item[name]; !ok {
			n := fmt.Sprintf("#r%d", i)
			u.ExpressionAttributeNames[n] = name
			remove = append(remove, n)
		}
	}
	expr := "SET " + strings.Join(set, ", ")
	if len(remove) > 0 {
		expr += " REMOVE " + strings.Join(remove, ", ")
	}
	u.UpdateExpression = &expr
	last.Update = u
}

func (t *txn) add(item any, k map[string]types.AttributeValue, cond string, onFail any, vals []any) {
	var condition *string
	var values map[string]types.AttributeValue
	if cond != "" {
		condition = aws.String(cond)
	} else {
		onFail = nil
	}
	for i := 0; i+1 < len(vals); i += 2 {
		if values == nil {
			values = map[string]types.AttributeValue{}
		}
		values[vals[i].(string)] = vals[i+1].(types.AttributeValue)
	}
	var w types.TransactWriteItem
	if k != nil {
		w.Delete = &types.Delete{Key: k, ConditionExpression: condition, ExpressionAttributeValues: values}
	} else {
		av, err := attributevalue.MarshalMap(item)
		if err != nil && t.err == nil {
			t.err = fmt.Errorf("encode item: %w", err)
		}
		w.Put = &types.Put{Item: av, ConditionExpression: condition, ExpressionAttributeValues: values}
	}
	t.items = append(t.items, w)
	t.onFail = append(t.onFail, onFail)
}

// maxAttempts bounds retries of a transaction cancelled only by contention
// (reason TransactionConflict), which DynamoDB asks callers to retry.
const maxAttempts = 5

func (s *Store) commit(ctx context.Context, t *txn) error {
	if t.err != nil {
		return t.err
	}
	for i := range t.items {
		if p := t.items[i].Put; p != nil {
			p.TableName = &s.Table
		}
		if d := t.items[i].Delete; d != nil {
			d.TableName = &s.Table
		}
		if c := t.items[i].ConditionCheck; c != nil {
			c.TableName = &s.Table
		}
		if u := t.items[i].Update; u != nil {
			u.TableName = &s.Table
		}
	}
	for attempt := 1; ; attempt++ {
		// The token makes the SDK's own retries of this attempt idempotent:
		// DynamoDB answers a retry of a committed transaction with success,
		// not with the failed conditions of a second try. (minidyn and moto
		// ignore it, so the fault tests turn the SDK's retries off.)
		_, err := s.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: t.items, ClientRequestToken: aws.String(rand.Text())})
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
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt*10+mathrand.IntN(20)) * time.Millisecond):
		}
	}
}

// explain turns the cancellation reasons into the caller's error, or nil
// when no condition failed (contention only: retry).
func (t *txn) explain(reasons []types.CancellationReason) error {
	var taken []derrors.Field
	var sentinel error
	for i, r := range reasons {
		if i >= len(t.onFail) || aws.ToString(r.Code) != "ConditionalCheckFailed" {
			continue
		}
		switch f := t.onFail[i].(type) {
		case derrors.Field:
			taken = append(taken, f)
		case error:
			if sentinel == nil {
				sentinel = f
			}
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
