package awserr

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/modules-service/modules/internal/derrors"
)

// TestThrottled: every code a provider answers at its capacity is
// throttling, whatever wraps it; a refusal of the request itself is not.
func TestThrottled(t *testing.T) {
	cancelled := func(codes ...string) error {
		e := &types.TransactionCanceledException{}
		for _, c := range codes {
			e.CancellationReasons = append(e.CancellationReasons, types.CancellationReason{Code: aws.String(c)})
		}
		return e
	}
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"DynamoDB ProvisionedThroughputExceededException", &types.ProvisionedThroughputExceededException{}, true},
		{"DynamoDB RequestLimitExceeded", &types.RequestLimitExceeded{}, true},
		{"DynamoDB ThrottlingException", &smithy.GenericAPIError{Code: "ThrottlingException"}, true},
		{"Secrets Manager ThrottlingException", &smithy.GenericAPIError{Code: "ThrottlingException", Fault: smithy.FaultClient}, true},
		{"Secrets Manager LimitExceededException (a quota)", &smithy.GenericAPIError{Code: "LimitExceededException"}, true},
		{"a transaction cancelled for ThrottlingError", cancelled("None", "ThrottlingError"), true},
		{"a transaction cancelled for ProvisionedThroughputExceeded", cancelled("ProvisionedThroughputExceeded"), true},
		{"wrapped by the SDK and the store", fmt.Errorf("put module: %w", &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "PutItem", Err: &types.ProvisionedThroughputExceededException{}}), true},
		{"a transaction cancelled for a condition", cancelled("ConditionalCheckFailed", "None"), false},
		{"ConditionalCheckFailedException", &types.ConditionalCheckFailedException{}, false},
		{"ValidationException", &smithy.GenericAPIError{Code: "ValidationException"}, false},
		{"ResourceNotFoundException", &types.ResourceNotFoundException{}, false},
		{"not an API error", errors.New("connection reset"), false},
	} {
		if got := Throttled(tt.err); got != tt.want {
			t.Errorf("%s: Throttled = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestThrottledIsBoth: the wrapped error is derrors.ErrThrottled and still
// the SDK's error, for code that inspects it (dynamo's ambiguity rules).
func TestThrottledIsBoth(t *testing.T) {
	sdk := &types.ProvisionedThroughputExceededException{Message: aws.String("slow down")}
	err := error(throttled{sdk})
	if !errors.Is(err, derrors.ErrThrottled) {
		t.Error("not derrors.ErrThrottled")
	}
	if _, ok := errors.AsType[*types.ProvisionedThroughputExceededException](err); !ok {
		t.Error("the SDK's error is lost")
	}
	if err.Error() != sdk.Error() {
		t.Errorf("message %q, want the SDK's %q", err.Error(), sdk.Error())
	}
}
