package localgateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	miniserver "github.com/truora/minidyn/server"

	"github.com/modules-service/modules/internal/dynamo"
)

// embeddedDB is minidyn's DynamoDB-compatible HTTP server on a loopback
// port, reached by the real SDK client, so the production store code runs
// unchanged.
type embeddedDB struct {
	srv    *http.Server
	url    string
	client *dynamodb.Client
}

func startEmbeddedDB(ctx context.Context, table string) (*embeddedDB, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e := &embeddedDB{srv: &http.Server{Handler: miniserver.NewServer(), ReadHeaderTimeout: 5 * time.Second}, url: "http://" + ln.Addr().String()}
	go func() { _ = e.srv.Serve(ln) }()
	e.client = dynamodb.New(dynamodb.Options{
		Region:                          "us-east-1",
		Credentials:                     credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint:                    aws.String(e.url),
		DisableValidateResponseChecksum: true, // minidyn sends no CRC32 header
	})
	if err := dynamo.CreateTable(ctx, e.client, table); err != nil {
		e.srv.Close()
		return nil, err
	}
	return e, nil
}

func (e *embeddedDB) Close() { _ = e.srv.Close() }

// Persistence of the embedded table: its items, as the DynamoDB wire
// protocol spells them, are saved to <dir>/table.json with a Scan and put
// back with PutItem on the next start. The same JSON would load into any
// DynamoDB endpoint.

const tableFile = "table.json"

func (e *embeddedDB) save(dir, table string) error {
	var items []json.RawMessage
	var start json.RawMessage
	for {
		req := map[string]any{"TableName": table}
		if start != nil {
			req["ExclusiveStartKey"] = start
		}
		var out struct {
			Items            []json.RawMessage `json:"Items"`
			LastEvaluatedKey json.RawMessage   `json:"LastEvaluatedKey"`
		}
		if err := e.call("Scan", req, &out); err != nil {
			return err
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 || string(out.LastEvaluatedKey) == "null" || string(out.LastEvaluatedKey) == "{}" {
			break
		}
		start = out.LastEvaluatedKey
	}
	return writeJSON(filepath.Join(dir, tableFile), items)
}

func (e *embeddedDB) load(dir, table string) error {
	var items []json.RawMessage
	if err := readJSON(filepath.Join(dir, tableFile), &items); err != nil {
		return err
	}
	for _, it := range items {
		if err := e.call("PutItem", map[string]any{"TableName": table, "Item": it}, nil); err != nil {
			return err
		}
	}
	return nil
}

// call sends one DynamoDB JSON-protocol request to the embedded server.
func (e *embeddedDB) call(op string, in, out any) error {
	body, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, e.url, bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", op, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// writeJSON replaces path atomically, readable by its owner only: it holds
// secret hashes and the signing key.
func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return WritePrivateFile(path, b)
}

// WritePrivateFile replaces path atomically with data, readable and
// writable by its owner only (0600), whatever the mode of a file that was
// there before: os.WriteFile keeps an existing file's mode, and a fixed
// temporary name (path+".tmp") left by a crash would hand its looser mode
// to the new file. os.CreateTemp makes a new file 0600 under a fresh name
// in the same directory, so the rename stays on one file system.
func WritePrivateFile(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	err = f.Chmod(0o600) // CreateTemp's mode already; said here, not assumed
	if err == nil {
		_, err = f.Write(data)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// readJSON reads path into v; a missing file leaves v alone.
func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
