package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Limits keeps the token endpoint's brute-force counters and the sources
// each client authenticated from, under their own partition key prefix so
// that the token function's IAM policy can allow writes there and nowhere
// else (template.yaml, dynamodb:LeadingKeys):
//
//	per (client, source)      LIMIT#<clientId>  SRC#<source>    sliding counter (ttl)
//	per client, all sources   LIMIT#<clientId>  ALL             sliding counter (ttl)
//	client's slow path        LIMIT#<clientId>  SLOW            next slot (ttl)
//	known-good source         LIMIT#<clientId>  KNOWN#<source>  (ttl)
//	once per window           LIMIT#<clientId>  ONCE#<window>#<what> (ttl)
//	unknown client IDs        LIMIT#~<source>   SRC             sliding counter (ttl)
//	assertion IDs seen        LIMIT#<clientId>  JTI#<sha256>    (ttl: the assertion's expiry)
//
// A client ID that names no client never becomes a key: attempts with one
// are counted by their source alone ("~" cannot start a client ID). Every
// method takes a client ID that passed module.CheckClientID and names a
// client, and a source from oauth's source rule, so keys stay far below
// DynamoDB's limits.
type Limits struct {
	DB    ClientAPI
	Table string
}

// counterTTL is how long a counter outlives its last write; windows are
// minutes long, so an hour leaves nothing behind that still counts.
const counterTTL = time.Hour

// bucketSpan is the resolution of the sliding counters: one attribute
// per minute of attempts (n<minute>) and of failures (f<minute>).
const bucketSpan = time.Minute

// reserveTries bounds the optimistic retries of one reservation; a
// counter so contended that they all lose answers "not reserved", which
// the caller treats like a full window.
const reserveTries = 8

func limitPK(clientID string) string { return "LIMIT#" + clientID }

// counterKey is the counter of clientID at source; of every source when
// source is empty; of client IDs that name no client when clientID is
// empty.
func counterKey(clientID, source string) map[string]types.AttributeValue {
	switch {
	case clientID == "":
		return key("LIMIT#~"+source, "SRC")
	case source == "":
		return key(limitPK(clientID), "ALL")
	default:
		return key(limitPK(clientID), "SRC#"+source)
	}
}

// counts is what a sliding counter holds over the span that ends now.
type counts struct {
	// Attempts are those counted and not given back: failures, and
	// attempts still in flight.
	Attempts int
	// Failures are attempts recorded as failed with Fail.
	Failures int
	// FreesAt is when the oldest counted attempt leaves the window: the
	// real wait of a caller refused for a full window.
	FreesAt time.Time
}

// minute is the bucket number of t.
func minute(t time.Time) int64 { return t.Unix() / int64(bucketSpan/time.Second) }

// buckets is the window at now over span: the current bucket and those
// before it back to now-span, so that any span-long interval ending now
// is covered (the count is exact over any such interval, never short).
func buckets(now time.Time, span time.Duration) (first, cur int64) {
	cur = minute(now)
	return cur - int64(span/bucketSpan), cur
}

// window sums an item's buckets over the window.
func window(item map[string]types.AttributeValue, now time.Time, span time.Duration) counts {
	first, cur := buckets(now, span)
	var w counts
	for b := first; b <= cur; b++ {
		n := attrInt(item, "n"+strconv.FormatInt(b, 10))
		w.Attempts += n
		w.Failures += attrInt(item, "f"+strconv.FormatInt(b, 10))
		if n > 0 && w.FreesAt.IsZero() {
			w.FreesAt = time.Unix((b+1)*int64(bucketSpan/time.Second), 0).Add(span)
		}
	}
	return w
}

// Reserve counts one attempt against a sliding counter, atomically across
// instances, if the window stays within limit attempts and holds fewer
// than maxFailures failures (0: no failure check). It reports whether it
// was counted and the time that matters: when counted, the time it was
// counted at (Release takes it); when not, when the oldest counted attempt
// leaves the window (zero when a reservation lost to contention every
// time).
//
// The write is conditional on what was read: no earlier bucket of the
// window grew (a decrease, a give-back, is harmless), the current bucket
// leaves room, and no later bucket exists (an instance whose minute
// already turned). So concurrent reservations never overshoot the limit,
// over any span-long interval, not per fixed window.
func (l *Limits) Reserve(ctx context.Context, clientID, source string, now time.Time, span time.Duration, limit, maxFailures int) (bool, time.Time, error) {
	k := counterKey(clientID, source)
	for range reserveTries {
		out, err := l.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &l.Table, Key: k, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return false, time.Time{}, fmt.Errorf("read attempt counter: %w", err)
		}
		// Another instance whose minute already turned (its request came
		// later, or its clock is a little ahead) wrote a later bucket: count
		// in that one, or the condition below could never hold.
		now := latest(out.Item, now)
		w := window(out.Item, now, span)
		if w.Attempts >= limit || (maxFailures > 0 && w.Failures >= maxFailures) {
			return false, w.FreesAt, nil
		}
		_, err = l.DB.UpdateItem(ctx, reservation(l.Table, k, out.Item, now, span, limit-w.Attempts))
		if isConditionFailed(err) {
			continue // another instance counted first: read again
		}
		if err != nil {
			return false, time.Time{}, fmt.Errorf("count attempt: %w", err)
		}
		return true, now, nil
	}
	return false, time.Time{}, nil
}

// latest is now, or the start of the latest bucket item holds if that is
// later.
func latest(item map[string]types.AttributeValue, now time.Time) time.Time {
	for a := range item {
		if b, ok := bucketOf(a); ok && b > minute(now) {
			now = time.Unix(b*int64(bucketSpan/time.Second), 0)
		}
	}
	return now
}

// reservation is the conditional update that adds one attempt to the
// current bucket of item, given room for that many more of them.
func reservation(table string, k, item map[string]types.AttributeValue, now time.Time, span time.Duration, room int) *dynamodb.UpdateItemInput {
	first, cur := buckets(now, span)
	names := map[string]string{"#ttl": attrTTL}
	values := map[string]types.AttributeValue{":one": num(1), ":ttl": num(now.Add(counterTTL).Unix())}
	var cond []string
	for b := first; b <= cur; b++ {
		nb, vb := "#n"+strconv.FormatInt(b-first, 10), ":n"+strconv.FormatInt(b-first, 10)
		names[nb] = "n" + strconv.FormatInt(b, 10)
		if b == cur {
			values[vb] = num(int64(attrInt(item, names[nb]) + room))
			cond = append(cond, fmt.Sprintf("(attribute_not_exists(%s) OR %s < %s)", nb, nb, vb))
		} else {
			values[vb] = num(int64(attrInt(item, names[nb])))
			cond = append(cond, fmt.Sprintf("(attribute_not_exists(%s) OR %s <= %s)", nb, nb, vb))
		}
	}
	names["#later"] = "n" + strconv.FormatInt(cur+1, 10)
	cond = append(cond, "attribute_not_exists(#later)")
	update := "ADD #n" + strconv.FormatInt(cur-first, 10) + " :one SET #ttl = :ttl"
	var stale []string
	for a := range item { // buckets that left the window: keep the item small
		if b, ok := bucketOf(a); ok && b < first {
			nb := "#s" + strconv.Itoa(len(stale))
			names[nb] = a
			stale = append(stale, nb)
		}
	}
	if len(stale) > 0 {
		update += " REMOVE " + strings.Join(stale, ", ")
	}
	return &dynamodb.UpdateItemInput{
		TableName: &table, Key: k,
		UpdateExpression:          &update,
		ConditionExpression:       aws.String(strings.Join(cond, " AND ")),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}
}

// bucketOf parses a bucket attribute's name (n<minute> or f<minute>).
func bucketOf(attr string) (int64, bool) {
	if len(attr) < 2 || (attr[0] != 'n' && attr[0] != 'f') {
		return 0, false
	}
	b, err := strconv.ParseInt(attr[1:], 10, 64)
	return b, err == nil
}

// Release gives back an attempt counted by Reserve at at: it succeeded.
func (l *Limits) Release(ctx context.Context, clientID, source string, at time.Time) error {
	return l.add(ctx, clientID, source, "n", at, -1)
}

// Fail records that an attempt counted at now failed.
func (l *Limits) Fail(ctx context.Context, clientID, source string, now time.Time) error {
	return l.add(ctx, clientID, source, "f", now, 1)
}

func (l *Limits) add(ctx context.Context, clientID, source, kind string, at time.Time, delta int64) error {
	_, err := l.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &l.Table,
		Key:                      counterKey(clientID, source),
		UpdateExpression:         aws.String("ADD #b :d SET #ttl = :ttl"),
		ExpressionAttributeNames: map[string]string{"#b": kind + strconv.FormatInt(minute(at), 10), "#ttl": attrTTL},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":d": num(delta), ":ttl": num(at.Add(counterTTL).Unix()),
		},
	})
	if err != nil {
		return fmt.Errorf("update attempt counter: %w", err)
	}
	return nil
}

// Slot takes the client's next slow-path slot: at most one every every,
// shared by every caller. It reports whether one was free now and, if
// not, when the next one is. A client's first call opens the slow path
// every from now rather than granting a slot, so a burst that fills the
// other limits does not get one more verification at once.
func (l *Limits) Slot(ctx context.Context, clientID string, now time.Time, every time.Duration) (bool, time.Time, error) {
	k := key(limitPK(clientID), "SLOW")
	next := now.Add(every)
	names := map[string]string{"#next": "next", "#ttl": attrTTL}
	values := map[string]types.AttributeValue{":now": num(now.UnixMilli()), ":next": num(next.UnixMilli()), ":ttl": num(now.Add(counterTTL).Unix())}
	for range reserveTries {
		_, err := l.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: &l.Table, Key: k,
			UpdateExpression:         aws.String("SET #next = :next, #ttl = :ttl"),
			ConditionExpression:      aws.String("#next <= :now"),
			ExpressionAttributeNames: names, ExpressionAttributeValues: values,
		})
		if err == nil {
			return true, next, nil
		}
		if !isConditionFailed(err) {
			return false, time.Time{}, fmt.Errorf("take slow-path slot: %w", err)
		}
		out, err := l.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &l.Table, Key: k, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return false, time.Time{}, fmt.Errorf("read slow-path slot: %w", err)
		}
		if _, ok := out.Item["next"]; ok {
			at := time.UnixMilli(int64(attrInt(out.Item, "next")))
			if at.After(now) {
				return false, at, nil
			}
			continue // freed between the two calls
		}
		_, err = l.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: &l.Table, Key: k,
			UpdateExpression:         aws.String("SET #next = :next, #ttl = :ttl"),
			ConditionExpression:      aws.String("attribute_not_exists(#next)"),
			ExpressionAttributeNames: names, ExpressionAttributeValues: map[string]types.AttributeValue{":next": values[":next"], ":ttl": values[":ttl"]},
		})
		if err == nil {
			return false, next, nil
		}
		if !isConditionFailed(err) {
			return false, time.Time{}, fmt.Errorf("open slow path: %w", err)
		}
	}
	return false, next, nil
}

// LastSuccess returns when clientID last authenticated from source, as
// remembered by Remember; the zero time when never (or expired).
func (l *Limits) LastSuccess(ctx context.Context, clientID, source string) (time.Time, error) {
	out, err := l.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &l.Table, Key: key(limitPK(clientID), "KNOWN#"+source)})
	if err != nil {
		return time.Time{}, fmt.Errorf("read known source of %s: %w", clientID, err)
	}
	if _, ok := out.Item["at"]; !ok {
		return time.Time{}, nil
	}
	return time.Unix(int64(attrInt(out.Item, "at")), 0), nil
}

// Remember records that clientID authenticated from source at at, kept
// until expires. The write happens only when the stored time is older than
// a day, so a busy client costs one write per source per day.
func (l *Limits) Remember(ctx context.Context, clientID, source string, at, expires time.Time) error {
	_, err := l.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &l.Table,
		Key:                      key(limitPK(clientID), "KNOWN#"+source),
		UpdateExpression:         aws.String("SET #at = :at, #ttl = :ttl"),
		ConditionExpression:      aws.String("attribute_not_exists(#at) OR #at < :dayAgo"),
		ExpressionAttributeNames: map[string]string{"#at": "at", "#ttl": attrTTL},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":at": num(at.Unix()), ":ttl": num(expires.Unix()), ":dayAgo": num(at.Add(-24 * time.Hour).Unix()),
		},
	})
	var cond *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &cond) {
		return fmt.Errorf("remember source of %s: %w", clientID, err)
	}
	return nil
}

// attrInt reads a number attribute; 0 when it is missing.
func attrInt(item map[string]types.AttributeValue, name string) int {
	n, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0
	}
	v, _ := strconv.ParseInt(n.Value, 10, 64)
	return int(v)
}

// Once reports whether this is the first call for (clientID, what, window):
// one conditional put, so of any number of instances exactly one hears
// true. It keeps the credential events to one per kind and window.
func (l *Limits) Once(ctx context.Context, clientID, what string, window time.Time) (bool, error) {
	first, err := l.mark(ctx, clientID, "ONCE#"+strconv.FormatInt(window.Unix(), 10)+"#"+what, window.Add(counterTTL))
	if err != nil {
		return false, fmt.Errorf("mark %s of %s: %w", what, clientID, err)
	}
	return first, nil
}

// mark writes the item sk of clientID's partition, to expire at expires,
// unless it exists, and reports whether it did not.
func (l *Limits) mark(ctx context.Context, clientID, sk string, expires time.Time) (bool, error) {
	_, err := l.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &l.Table,
		Key:                      key(limitPK(clientID), sk),
		UpdateExpression:         aws.String("SET #ttl = :ttl"),
		ConditionExpression:      aws.String("attribute_not_exists(PK)"),
		ExpressionAttributeNames: map[string]string{"#ttl": attrTTL},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":ttl": num(expires.Unix()),
		},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	return err == nil, err
}

// FirstUse records the jti of a client assertion (assertion.Replays) until
// expires and reports whether no instance had recorded it before. The jti
// is the client's choice of up to 256 characters: its hash is the key, so
// any jti fits and none is stored as sent.
func (l *Limits) FirstUse(ctx context.Context, clientID, jti string, expires time.Time) (bool, error) {
	sum := sha256.Sum256([]byte(jti))
	first, err := l.mark(ctx, clientID, "JTI#"+base64.RawURLEncoding.EncodeToString(sum[:]), expires.Add(time.Second))
	if err != nil {
		return false, fmt.Errorf("record an assertion of %s: %w", clientID, err)
	}
	return first, nil
}
