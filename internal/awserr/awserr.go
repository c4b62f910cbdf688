// Package awserr sorts the AWS SDK's errors into the service's one error
// vocabulary. A provider at its capacity (DynamoDB's
// ProvisionedThroughputExceeded or a transaction cancelled for
// ThrottlingError, Secrets Manager's ThrottlingException or quota, any
// code the SDK itself treats as throttling) still fails after the SDK's own
// retries; it then answers as derrors.ErrThrottled, which the HTTP layers
// turn into 503 with Retry-After rather than a 500. Nothing about the
// request was wrong and nothing was written: retrying later works.
package awserr

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/modules-service/modules/internal/derrors"
)

// Classify is an SDK API option (aws.Config.APIOptions): every client built
// from that config returns throttling as derrors.ErrThrottled, wrapped
// around the SDK's error so that errors.As still finds it.
func Classify(stack *middleware.Stack) error {
	// Initialize is the outermost step: it sees the error after retries.
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("ClassifyThrottling",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleInitialize(ctx, in)
			if err != nil && Throttled(err) {
				err = throttled{err}
			}
			return out, md, err
		}), middleware.Before)
}

// Use adds Classify to cfg's API options.
func Use(cfg *aws.Config) { cfg.APIOptions = append(cfg.APIOptions, Classify) }

// Throttled reports whether err is a provider refusing for capacity.
func Throttled(err error) bool {
	var cancelled *types.TransactionCanceledException
	if errors.As(err, &cancelled) {
		for _, r := range cancelled.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded":
				return true
			}
		}
		return false
	}
	var api smithy.APIError
	if !errors.As(err, &api) {
		return false
	}
	_, ok := retry.DefaultThrottleErrorCodes[api.ErrorCode()]
	return ok
}

// throttled is the SDK's error, also derrors.ErrThrottled.
type throttled struct{ err error }

func (e throttled) Error() string   { return e.err.Error() }
func (e throttled) Unwrap() []error { return []error{e.err, derrors.ErrThrottled} }
