package dynamo_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/modules-service/modules/internal/dynamo"
	"github.com/modules-service/modules/internal/testing/testenv"
)

// TestProofIDsAreUsedOnce: a DPoP proof's jti is recorded once across
// authorizer instances (two Proofs on one table), per client, whatever
// the client chose, and the token endpoint's records (LIMIT#) are apart.
func TestProofIDsAreUsedOnce(t *testing.T) {
	testenv.All(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		one, other := &dynamo.Proofs{DB: b.DB, Table: b.Table}, &dynamo.Proofs{DB: b.DB, Table: b.Table}
		expires := time.Now().Add(time.Minute)
		for _, tt := range []struct {
			instance *dynamo.Proofs
			client   string
			jti      string
			want     bool
		}{
			{one, "client-a", "proof-1", true},
			{other, "client-a", "proof-1", false}, // a replay to another instance
			{one, "client-a", "proof-1", false},
			{one, "client-b", "proof-1", true}, // another client's jti is its own
			{other, "client-a", strings.Repeat("é#", 128), true},
			{one, "client-a", strings.Repeat("é#", 128), false},
		} {
			first, err := tt.instance.FirstUse(ctx, tt.client, tt.jti, expires)
			if err != nil || first != tt.want {
				t.Errorf("FirstUse(%s, %.12q…) = %v, %v; want %v", tt.client, tt.jti, first, err, tt.want)
			}
		}
		// the token endpoint's record of the same jti is another item
		if first, err := b.Limits().FirstUse(ctx, "client-a", "proof-1", expires); err != nil || !first {
			t.Errorf("the token endpoint's record of a jti the authorizer saw: %v, %v; want a first use", first, err)
		}
	})
}
