package dynamo

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modules-service/modules/internal/module"
)

// unprocessing answers BatchGetItem as a throttled table does: the first
// key of each call comes back unprocessed, up to stingy times; every
// other key is found.
type unprocessing struct {
	StoreAPI
	stingy int
	calls  int
	after  func() // called after each call
}

func (u *unprocessing) BatchGetItem(_ context.Context, in *dynamodb.BatchGetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	u.calls++
	defer u.after()
	out := &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{}}
	for table, ka := range in.RequestItems {
		for i, k := range ka.Keys {
			if i == 0 && u.stingy > 0 {
				u.stingy--
				out.UnprocessedKeys = map[string]types.KeysAndAttributes{table: {Keys: []map[string]types.AttributeValue{k}, ConsistentRead: ka.ConsistentRead}}
				continue
			}
			id := k[attrSK].(*types.AttributeValueMemberS).Value[len("MODULE#"):]
			av, err := attributevalue.MarshalMap(toItem(module.Module{ID: id, TenantID: "acme"}))
			if err != nil {
				return nil, err
			}
			out.Responses[table] = append(out.Responses[table], av)
		}
	}
	return out, nil
}

func TestUnprocessedKeysAreRetried(t *testing.T) {
	ids := []string{"a", "b", "c"}
	for _, tc := range []struct {
		name      string
		stingy    int
		cancel    bool // the context ends after the first call
		wantErr   bool
		wantCalls int
	}{
		{"all at once", 0, false, false, 1},
		{"left over twice, then read", 2, false, false, 3},
		{"left over every time: an error, not a short list", 100, false, true, maxBatchAttempts},
		{"the context ends: no more calls", 100, true, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			db := &unprocessing{stingy: tc.stingy, after: func() {
				if tc.cancel {
					cancel()
				}
			}}
			s := &Store{DB: db, Table: "modules"}
			mods, err := s.modules(ctx, "acme", ids)
			if (err != nil) != tc.wantErr {
				t.Fatalf("modules = %v, %v; want an error: %v", mods, err, tc.wantErr)
			}
			if tc.cancel && !errors.Is(err, context.Canceled) {
				t.Errorf("error = %v, want context.Canceled", err)
			}
			if db.calls != tc.wantCalls {
				t.Errorf("BatchGetItem called %d times, want %d", db.calls, tc.wantCalls)
			}
			if !tc.wantErr {
				var got []string
				for _, m := range mods {
					got = append(got, m.ID)
				}
				if len(got) != len(ids) || got[0] != "a" || got[1] != "b" || got[2] != "c" {
					t.Errorf("modules = %v, want %v in that order", got, ids)
				}
			}
		})
	}
}
