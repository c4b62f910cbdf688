package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// pager is the SDK's own paginator of Query or Scan
// (dynamodb.NewQueryPaginator, dynamodb.NewScanPaginator), which follows
// LastEvaluatedKey: no read here follows it by hand.
type pager[O any] interface {
	HasMorePages() bool
	NextPage(context.Context, ...func(*dynamodb.Options)) (O, error)
}

// each decodes the items of p's pages as T and calls fn on each, in order,
// until fn returns false or an error (which each returns). It asks for a
// next page only while fn wants more, so a caller that needs n items reads
// no page past the one that holds the n-th.
func each[T, O any](ctx context.Context, p pager[O], items func(O) []map[string]types.AttributeValue, fn func(T) (bool, error)) error {
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, raw := range items(page) {
			var it T
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return fmt.Errorf("decode item: %w", err)
			}
			more, err := fn(it)
			if err != nil || !more {
				return err
			}
		}
	}
	return nil
}

// eachQueried is each over the pages of a Query.
func eachQueried[T any](ctx context.Context, db dynamodb.QueryAPIClient, in *dynamodb.QueryInput, fn func(T) (bool, error)) error {
	return each(ctx, dynamodb.NewQueryPaginator(db, in), func(o *dynamodb.QueryOutput) []map[string]types.AttributeValue { return o.Items }, fn)
}

// eachScanned is each over the pages of a Scan.
func eachScanned[T any](ctx context.Context, db dynamodb.ScanAPIClient, in *dynamodb.ScanInput, fn func(T) (bool, error)) error {
	return each(ctx, dynamodb.NewScanPaginator(db, in), func(o *dynamodb.ScanOutput) []map[string]types.AttributeValue { return o.Items }, fn)
}
