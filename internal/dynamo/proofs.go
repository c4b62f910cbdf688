package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Proofs remembers the DPoP proofs (RFC 9449) the authorizer accepted,
// under a partition prefix of their own so that the authorizer's IAM
// policy may write there and nowhere else:
//
//	DPOP#<clientId>  JTI#<sha256(jti)>  (ttl: when the proof's iat leaves the window)
//
// The token function records its proofs beside its assertions
// (Limits.FirstUse, LIMIT#), which the authorizer may not write.
type Proofs struct {
	DB    ClientAPI
	Table string
}

// FirstUse records jti for clientID until expires and reports whether no
// instance had recorded it before: one conditional write, nothing read
// back. The jti is the client's choice: its hash is the key.
func (p *Proofs) FirstUse(ctx context.Context, clientID, jti string, expires time.Time) (bool, error) {
	sum := sha256.Sum256([]byte(jti))
	_, err := p.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &p.Table,
		Key:                      key("DPOP#"+clientID, "JTI#"+base64.RawURLEncoding.EncodeToString(sum[:])),
		UpdateExpression:         aws.String("SET #ttl = :ttl"),
		ConditionExpression:      aws.String("attribute_not_exists(PK)"),
		ExpressionAttributeNames: map[string]string{"#ttl": attrTTL},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":ttl": num(expires.Add(time.Second).Unix()),
		},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("record a DPoP proof of %s: %w", clientID, err)
	}
	return true, nil
}
