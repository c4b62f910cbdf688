package dynamo_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modules-service/modules/internal/audit"
	"github.com/modules-service/modules/internal/dynamo"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/testing/testenv"
)

// contended answers its first TransactWriteItems as DynamoDB does a
// transaction cancelled by a concurrent one (TransactionConflict), then
// passes the calls on; it keeps every input.
type contended struct {
	dynamo.ClientAPI
	conflicts int
	inputs    []*dynamodb.TransactWriteItemsInput
}

func (c *contended) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.inputs = append(c.inputs, in)
	if c.conflicts > 0 {
		c.conflicts--
		return nil, &types.TransactionCanceledException{Message: aws.String("injected"),
			CancellationReasons: []types.CancellationReason{{Code: aws.String("TransactionConflict")}, {Code: aws.String("None")}}}
	}
	return c.ClientAPI.TransactWriteItems(ctx, in, opts...)
}

// TestRecordCommitsAsEveryWriteDoes: a credential event goes through the
// transaction path of every other write: a ClientRequestToken on each
// attempt (so the SDK's own retry of a committed one is answered with
// success), contention retried, a lost answer reported as an unknown
// outcome rather than a failure.
func TestRecordCommitsAsEveryWriteDoes(t *testing.T) {
	testenv.All(t, func(t *testing.T, b testenv.Backend) {
		ctx := t.Context()
		event := func(moduleID string) audit.Event {
			ev := audit.New(ctx, audit.ClientThrottled, time.Now(), "acme", moduleID, "billing")
			ev.Actor, ev.Outcome = audit.Actor{Kind: "client", ClientID: "client-" + moduleID}, audit.Refused
			return ev
		}
		trail := func(moduleID string) []audit.Event {
			t.Helper()
			evs, _, err := b.Store().Events(ctx, "acme", moduleID, "", "", "", 10)
			if err != nil {
				t.Fatal(err)
			}
			return evs
		}

		t.Run("contention is retried, each attempt with its token", func(t *testing.T) {
			db := &contended{ClientAPI: b.DB, conflicts: 2}
			ev := event("01jdzs0000000000000000000a")
			if err := (&dynamo.Clients{DB: db, Table: b.Table}).Record(ctx, ev); err != nil {
				t.Fatalf("Record after two conflicts = %v, want nil", err)
			}
			if got, want := len(db.inputs), 3; got != want {
				t.Fatalf("TransactWriteItems called %d times, want %d", got, want)
			}
			seen := map[string]bool{}
			for i, in := range db.inputs {
				tok := aws.ToString(in.ClientRequestToken)
				if tok == "" || seen[tok] {
					t.Errorf("attempt %d: ClientRequestToken %q, want a fresh one", i+1, tok)
				}
				seen[tok] = true
			}
			if got := trail(ev.ModuleID); len(got) != 1 || got[0].ID != ev.ID {
				t.Errorf("module's trail = %v, want the one event %s", got, ev.ID)
			}
		})

		t.Run("a lost answer is an unknown outcome", func(t *testing.T) {
			db, faults := b.Faulty(t)
			faults.Plan("TransactWriteItems", testenv.LoseResponse)
			ev := event("01jdzs0000000000000000000b")
			err := (&dynamo.Clients{DB: db, Table: b.Table}).Record(ctx, ev)
			if !errors.Is(err, module.ErrOutcomeUnknown) {
				t.Fatalf("Record with its answer lost = %v, want module.ErrOutcomeUnknown", err)
			}
			if got := trail(ev.ModuleID); len(got) != 1 {
				t.Errorf("module's trail holds %d events, want the one that was applied", len(got))
			}
		})
	})
}
