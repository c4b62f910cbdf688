package testenv

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/modules-service/modules/internal/dynamo"
)

// keyLimits refuses, as DynamoDB does with a ValidationException, every
// request that names a key or writes an item beyond DynamoDB's limits
// (dynamo.MaxPartitionKey, MaxSortKey, MaxItem). minidyn and moto accept
// them, so without it a key that only AWS refuses passes every test. It
// sits in front of every DynamoDB client testenv makes.
type keyLimits struct{ next aws.HTTPClient }

// Do implements aws.HTTPClient.
func (k keyLimits) Do(req *http.Request) (*http.Response, error) {
	op := req.Header.Get("X-Amz-Target")
	op = op[strings.LastIndex(op, ".")+1:]
	if req.Body != nil && req.Body != http.NoBody {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		if problem := OverLimits(op, body); problem != "" {
			msg := fmt.Sprintf(`{"__type":"com.amazon.coral.validation#ValidationException","message":%q}`, "One or more parameter values were invalid: "+problem)
			resp := answer(req, http.StatusBadRequest, msg)
			resp.Header.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(msg))), 10))
			return resp, nil
		}
	}
	return k.next.Do(req)
}

type attrs = map[string]json.RawMessage

var (
	andSplit     = regexp.MustCompile(`(?i)\s+AND\s+`)
	names        = regexp.MustCompile(`(?:^|[^:#\w])(#?[A-Za-z_]\w*)`) // not a :placeholder
	placeholders = regexp.MustCompile(`:[A-Za-z0-9_]+`)
)

// request is the part of a DynamoDB JSON request that holds keys and items.
type request struct {
	Item                      attrs
	Key                       attrs
	ExclusiveStartKey         attrs
	KeyConditionExpression    string
	ExpressionAttributeNames  map[string]string
	ExpressionAttributeValues attrs
	TransactItems             []struct {
		Put, Update, Delete, ConditionCheck, Get *request
	}
	RequestItems map[string]json.RawMessage
}

// OverLimits reports what in the JSON body of DynamoDB operation op
// exceeds DynamoDB's limits, or "".
func OverLimits(op string, body []byte) string {
	var r request
	if json.Unmarshal(body, &r) != nil {
		return ""
	}
	var problems []string
	r.check(op, &problems)
	for _, t := range r.TransactItems {
		for name, sub := range map[string]*request{"Put": t.Put, "Update": t.Update, "Delete": t.Delete, "ConditionCheck": t.ConditionCheck, "Get": t.Get} {
			if sub != nil {
				sub.check(name, &problems)
			}
		}
	}
	for _, raw := range r.RequestItems {
		var batch struct{ Keys []attrs }
		var writes []struct {
			PutRequest    *struct{ Item attrs }
			DeleteRequest *struct{ Key attrs }
		}
		if json.Unmarshal(raw, &batch) == nil {
			for _, k := range batch.Keys {
				checkKey(k, &problems)
			}
		} else if json.Unmarshal(raw, &writes) == nil {
			for _, w := range writes {
				if w.PutRequest != nil {
					checkKey(w.PutRequest.Item, &problems)
					checkItem(w.PutRequest.Item, &problems)
				}
				if w.DeleteRequest != nil {
					checkKey(w.DeleteRequest.Key, &problems)
				}
			}
		}
	}
	return strings.Join(problems, "; ")
}

func (r *request) check(op string, problems *[]string) {
	checkKey(r.Item, problems)
	checkItem(r.Item, problems)
	checkKey(r.Key, problems)
	checkKey(r.ExclusiveStartKey, problems)
	if op == "Update" || op == "UpdateItem" { // what it sets, at most
		checkItem(r.ExpressionAttributeValues, problems)
	}
	// a key condition's values are keys too: "PK = :pk AND begins_with(SK, :p)"
	for _, clause := range andSplit.Split(r.KeyConditionExpression, -1) {
		limit := dynamo.MaxSortKey
		for _, m := range names.FindAllStringSubmatch(clause, -1) {
			name := m[1]
			if n, ok := r.ExpressionAttributeNames[name]; ok {
				name = n
			}
			if name == "PK" {
				limit = dynamo.MaxPartitionKey
			}
		}
		for _, v := range placeholders.FindAllString(clause, -1) {
			if n := size(r.ExpressionAttributeValues[v]); n > limit {
				*problems = append(*problems, fmt.Sprintf("key condition value %s of %d bytes exceeds the key limit of %d bytes", v, n, limit))
			}
		}
	}
}

func checkKey(a attrs, problems *[]string) {
	if n := size(a["PK"]); n > dynamo.MaxPartitionKey {
		*problems = append(*problems, fmt.Sprintf("Size of hashkey (%d bytes) has exceeded the maximum size limit of %d bytes", n, dynamo.MaxPartitionKey))
	}
	if n := size(a["SK"]); n > dynamo.MaxSortKey {
		*problems = append(*problems, fmt.Sprintf("Aggregated size of all range keys (%d bytes) has exceeded the size limit of %d bytes", n, dynamo.MaxSortKey))
	}
}

func checkItem(a attrs, problems *[]string) {
	total := 0
	for name, v := range a {
		total += len(name) + size(v)
	}
	if total > dynamo.MaxItem {
		*problems = append(*problems, fmt.Sprintf("Item size (%d bytes) has exceeded the maximum allowed size of %d bytes", total, dynamo.MaxItem))
	}
}

// size is an attribute value's size as DynamoDB counts it (docs:
// "Item sizes and formats"), rounded up where it is approximate.
func size(raw json.RawMessage) int {
	var v map[string]json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil {
		return 0
	}
	n := 0
	for typ, val := range v {
		switch typ {
		case "S":
			var s string
			_ = json.Unmarshal(val, &s)
			n += len(s)
		case "N":
			var s string
			_ = json.Unmarshal(val, &s)
			n += len(s)/2 + 2
		case "B":
			var s string
			_ = json.Unmarshal(val, &s)
			b, _ := base64.StdEncoding.DecodeString(s)
			n += len(b)
		case "BOOL", "NULL":
			n++
		case "SS", "NS", "BS":
			var ss []string
			_ = json.Unmarshal(val, &ss)
			for _, s := range ss {
				n += len(s)
			}
		case "L":
			var l []json.RawMessage
			_ = json.Unmarshal(val, &l)
			n += 3
			for _, e := range l {
				n += 1 + size(e)
			}
		case "M":
			var m attrs
			_ = json.Unmarshal(val, &m)
			n += 3
			for k, e := range m {
				n += 1 + len(k) + size(e)
			}
		}
	}
	return n
}
