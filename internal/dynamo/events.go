package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modules-service/modules/internal/audit"
)

// The audit trail lives in partitions of its own, so a module list never
// reads past it. Each event is written twice, in the transaction of its
// change:
//
//	tenant trail  EVENTS#<tenantId>[#<shard>]   <eventId>   (ttl)
//	module trail  EVENTS#<tenantId>#<moduleId>  <eventId>   (ttl)
//
// The tenant trail is spread over trailShards partitions, the shard a hash
// of the event ID: event IDs are time-ordered, so one partition would take
// every write of a tenant at its tail, where DynamoDB cannot split it for
// heat, and cap the tenant's changes near 500 per second (a transaction's
// write costs two units, a partition gives 1,000 a second). Shard 0 keeps
// the unsuffixed key, the one partition events went to before sharding, so
// older trails read on. A shard is 1 to 2 digits and a module ID 26
// characters: no shard's key is a module trail's. A read of the tenant
// trail merges its shards; a module's trail is one partition (a module's
// changes are serialised by its version anyway).
//
// The token function's credential events (audit.Type.Credential) have
// partitions of their own, sharded alike, so that its IAM policy allows
// writing them (dynamodb:LeadingKeys CREDEVENTS#*) and not the module
// trails: it cannot forge or back-date a module's history. Reads merge
// both kinds.
//
//	credential trail         CREDEVENTS#<tenantId>[#<shard>]   <eventId>   (ttl)
//	module credential trail  CREDEVENTS#<tenantId>#<moduleId>  <eventId>   (ttl)
//
// Event IDs are time-ordered and unique across both kinds, so a Query
// backwards reads newest first, a merge of several is in time order, and a
// deleted module's events stay in its tenant's trail until they expire.
// Tenant and module IDs hold no '#' (module.CheckTenantID), so no trail's
// key is another's.
const (
	eventsPrefix     = "EVENTS#"
	credEventsPrefix = "CREDEVENTS#"
)

// trailShards is how many partitions a tenant's trail spreads over: at
// about 500 event writes a second each, 8 hold a tenant's changes above
// 1,000 a second with room for credential events and uneven hashing. It
// may grow (a read covers every shard up to it, and events written before
// keep their shard) but never shrink, or older events would go unread.
const trailShards = 8

// shardOf is the shard of the tenant trail an event with this ID goes to:
// a hash, so a retried transaction writes the same items.
func shardOf(eventID string) int { return int(crc32.ChecksumIEEE([]byte(eventID)) % trailShards) }

// tenantTrailPK is the partition of one shard of a tenant's trail.
func tenantTrailPK(prefix, tenantID string, shard int) string {
	if shard == 0 {
		return prefix + tenantID
	}
	return prefix + tenantID + "#" + strconv.Itoa(shard)
}

// moduleTrailPK is the partition of a module's trail.
func moduleTrailPK(prefix, tenantID, moduleID string) string {
	return prefix + tenantID + "#" + moduleID
}

type eventItem struct {
	PK         string      `dynamodbav:"PK"`
	SK         string      `dynamodbav:"SK"`
	Type       string      `dynamodbav:"type"`
	Time       time.Time   `dynamodbav:"time"`
	TenantID   string      `dynamodbav:"tenantId"`
	ModuleID   string      `dynamodbav:"moduleId"`
	ModuleName string      `dynamodbav:"moduleName"`
	Actor      audit.Actor `dynamodbav:"actor"`
	RequestID  string      `dynamodbav:"requestId,omitempty"`
	SourceIP   string      `dynamodbav:"sourceIp,omitempty"`
	UserAgent  string      `dynamodbav:"userAgent,omitempty"`
	Outcome    string      `dynamodbav:"outcome"`
	Reason     string      `dynamodbav:"reason,omitempty"`
	// Changes is the JSON of audit.Event.Changes: values of any type,
	// empty lists included, kept exactly.
	Changes string `dynamodbav:"changes,omitempty"`
	TTL     int64  `dynamodbav:"ttl,omitempty"`
}

// eventItems are the two copies of ev, under prefix.
func eventItems(prefix string, ev audit.Event) ([2]eventItem, error) {
	it := eventItem{SK: ev.ID, Type: string(ev.Type), Time: ev.Time, TenantID: ev.TenantID, ModuleID: ev.ModuleID,
		ModuleName: ev.ModuleName, Actor: ev.Actor, RequestID: ev.RequestID, SourceIP: ev.SourceIP,
		UserAgent: ev.UserAgent, Outcome: ev.Outcome, Reason: ev.Reason}
	if len(ev.Changes) > 0 {
		b, err := json.Marshal(ev.Changes)
		if err != nil {
			return [2]eventItem{}, fmt.Errorf("encode changes: %w", err)
		}
		it.Changes = string(b)
	}
	if !ev.Expires.IsZero() {
		it.TTL = ev.Expires.Unix()
	}
	tenant, mod := it, it
	tenant.PK, mod.PK = tenantTrailPK(prefix, ev.TenantID, shardOf(ev.ID)), moduleTrailPK(prefix, ev.TenantID, ev.ModuleID)
	return [2]eventItem{tenant, mod}, nil
}

func (it eventItem) event() (audit.Event, error) {
	ev := audit.Event{ID: it.SK, Type: audit.Type(it.Type), Time: it.Time.UTC(), TenantID: it.TenantID,
		ModuleID: it.ModuleID, ModuleName: it.ModuleName, Actor: it.Actor, RequestID: it.RequestID,
		SourceIP: it.SourceIP, UserAgent: it.UserAgent, Outcome: it.Outcome, Reason: it.Reason}
	if it.Changes != "" {
		if err := json.Unmarshal([]byte(it.Changes), &ev.Changes); err != nil {
			return audit.Event{}, fmt.Errorf("decode changes of event %s: %w", it.SK, err)
		}
	}
	if it.TTL != 0 {
		ev.Expires = time.Unix(it.TTL, 0).UTC()
	}
	return ev, nil
}

// addEvent adds both copies of ev to the transaction; an event ID is new,
// so neither has a condition.
func (t *txn) addEvent(ev audit.Event) {
	items, err := eventItems(eventsPrefix, ev)
	if err != nil && t.err == nil {
		t.err = err
	}
	for _, it := range items {
		t.put(it, cond{})
	}
}

// maxEventReads bounds the items one page of a filtered trail reads: a
// rare type in a long trail answers a short (even empty) page with a
// cursor rather than reading the whole trail in one request.
const maxEventReads = 1000

// Events implements module.Store: a merge, newest first, of the trail
// and the credential trail (only one of them when the type filter says
// which), each one partition for a module and trailShards for a tenant.
// A page ends at its last event, or where the read budget ran out: every
// event above that ID, in every partition, has been considered.
func (s *Store) Events(ctx context.Context, tenantID, moduleID string, t audit.Type, before, from string, limit int) ([]audit.Event, string, error) {
	if before != "" && before <= from {
		return nil, "", nil // nothing is below the cursor and not below the start
	}
	parts := trailParts(tenantID, moduleID, t)
	trails := make([]*trail, len(parts))
	for i, p := range parts {
		trails[i] = s.trail(p.pk, p.credential, t, before, from, pageShare(limit, len(parts), t != ""))
	}
	read, err := fetchAll(ctx, trails)
	if err != nil {
		return nil, "", err
	}
	now := time.Now()
	var events []audit.Event
	last := ""
	for {
		tr := newest(trails)
		if tr == nil {
			return events, "", nil
		}
		if len(tr.items) == 0 { // its unread part may hold the newest event
			if read >= maxEventReads {
				return events, tr.floor, nil
			}
			n, err := tr.fetch(ctx)
			if err != nil {
				return nil, "", err
			}
			read += n
			continue
		}
		it := tr.items[0]
		tr.items = tr.items[1:]
		if it.SK == before {
			continue // the cursor's own event (SK BETWEEN includes it)
		}
		ev, err := it.event()
		if err != nil {
			return nil, "", err
		}
		if !ev.Expires.IsZero() && ev.Expires.Before(now) {
			continue // TTL deletes lazily
		}
		if tr.credential && !ev.Type.Credential() {
			continue // not what the credential trail's one writer may write
		}
		if len(events) == limit {
			return events, last, nil // one more exists: the page ends at last
		}
		events, last = append(events, ev), ev.ID
	}
}

// trail is one partition of the audit trail, read backwards a page at a
// time by the SDK's paginator.
type trail struct {
	pages      *dynamodb.QueryPaginator
	credential bool        // a credential trail: only credential events belong
	items      []eventItem // read and not yet taken, newest first
	floor      string      // the sort key the last page ended at: all above it is read
}

// done reports whether nothing is left to read.
func (tr *trail) done() bool { return !tr.pages.HasMorePages() }

// trail starts a read of partition pk, size items per Query: IDs below
// before, not below from.
func (s *Store) trail(pk string, credential bool, t audit.Type, before, from string, size int) *trail {
	in := &dynamodb.QueryInput{
		TableName:                 &s.Table,
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(size)),
	}
	// A key condition rather than an ExclusiveStartKey: the cursor's event
	// is in one of the partitions only.
	switch {
	case before != "" && from != "":
		in.KeyConditionExpression = aws.String("PK = :pk AND SK BETWEEN :from AND :before")
		in.ExpressionAttributeValues[":from"], in.ExpressionAttributeValues[":before"] = str(from), str(before)
	case before != "":
		in.KeyConditionExpression = aws.String("PK = :pk AND SK < :before")
		in.ExpressionAttributeValues[":before"] = str(before)
	case from != "":
		in.KeyConditionExpression = aws.String("PK = :pk AND SK >= :from")
		in.ExpressionAttributeValues[":from"] = str(from)
	}
	if t != "" {
		in.FilterExpression = aws.String("#type = :type")
		in.ExpressionAttributeNames = map[string]string{"#type": "type"}
		in.ExpressionAttributeValues[":type"] = str(string(t))
	}
	return &trail{pages: dynamodb.NewQueryPaginator(s.DB, in), credential: credential}
}

// trailPart is one partition of a trail read.
type trailPart struct {
	pk         string
	credential bool // a credential trail's partition
}

// trailParts are the partitions that hold the events of a tenant (or of
// one module when moduleID is set) of type t (any when empty).
func trailParts(tenantID, moduleID string, t audit.Type) []trailPart {
	var parts []trailPart
	for _, prefix := range []string{eventsPrefix, credEventsPrefix} {
		credential := prefix == credEventsPrefix
		switch {
		case t != "" && t.Credential() != credential:
		case moduleID != "":
			parts = append(parts, trailPart{moduleTrailPK(prefix, tenantID, moduleID), credential})
		default:
			for shard := range trailShards {
				parts = append(parts, trailPart{tenantTrailPK(prefix, tenantID, shard), credential})
			}
		}
	}
	return parts
}

// pageShare is how many items each of n partitions reads per Query for a
// page of limit events (limit+1: the one more tells that a page follows).
// One or two partitions (a module's trails) may each hold the whole page;
// a tenant's shards each hold about 1/n of it, read with half as much
// again to spare, so that a page seldom needs a second round and reads
// O(limit) items whatever n is; a shard that runs short is read on
// (Events). A type filter reads at least 250 items in all, since most
// items read may not match.
func pageShare(limit, n int, filtered bool) int {
	share := limit + 1
	if n > 2 {
		share = (3*(limit+1)+2*n-1)/(2*n) + 1
	}
	if filtered {
		share = max(share, (250+n-1)/n)
	}
	return share
}

// fetchAll reads the first page of every trail, at once, and returns how
// many items DynamoDB evaluated for them.
func fetchAll(ctx context.Context, trails []*trail) (int, error) {
	read := make([]int, len(trails))
	errs := make([]error, len(trails))
	var wg sync.WaitGroup
	for i, tr := range trails {
		wg.Go(func() { read[i], errs[i] = tr.fetch(ctx) })
	}
	wg.Wait()
	total := 0
	for _, n := range read {
		total += n
	}
	return total, errors.Join(errs...)
}

// fetch reads the trail's next page and returns how many items DynamoDB
// evaluated for it.
func (tr *trail) fetch(ctx context.Context) (int, error) {
	out, err := tr.pages.NextPage(ctx)
	if err != nil {
		return 0, fmt.Errorf("query events: %w", err)
	}
	for _, raw := range out.Items {
		var it eventItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return 0, fmt.Errorf("decode event: %w", err)
		}
		tr.items = append(tr.items, it)
	}
	if out.LastEvaluatedKey != nil {
		sk, _ := out.LastEvaluatedKey[attrSK].(*types.AttributeValueMemberS)
		if sk == nil {
			return 0, fmt.Errorf("query events: last evaluated key has no sort key")
		}
		tr.floor = sk.Value
	}
	return int(out.ScannedCount), nil
}

// newest is the trail to take from next: the one whose next item is the
// newest of all, or whose unread part may hold a newer one; nil when all
// are read and taken.
func newest(trails []*trail) *trail {
	var best *trail
	bound := ""
	for _, tr := range trails {
		var b string
		switch {
		case len(tr.items) > 0:
			b = tr.items[0].SK
		case !tr.done():
			b = tr.floor // unread items are below it
		default:
			continue
		}
		if best == nil || b > bound {
			best, bound = tr, b
		}
	}
	return best
}
