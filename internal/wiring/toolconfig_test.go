package wiring_test

import (
	"context"
	"strings"
	"testing"

	"github.com/modules-service/modules/internal/wiring"
)

// bare leaves no AWS configuration on the machine.
func bare(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL"} {
		t.Setenv(k, "")
	}
}

func TestToolAWSConfigOnALocalEndpoint(t *testing.T) {
	bare(t)
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5055")
	cfg, note, err := wiring.ToolAWSConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if cfg.Region != wiring.DefaultLocalRegion || err != nil || creds.AccessKeyID == "" {
		t.Errorf("region %q, credentials %v, %v; want the defaults filled in", cfg.Region, creds.AccessKeyID, err)
	}
	if !strings.Contains(note, "region "+wiring.DefaultLocalRegion) || !strings.Contains(note, "dummy credentials") {
		t.Errorf("note %q: want it to say what was assumed", note)
	}
	// Configured values are kept, and nothing is said.
	t.Setenv("AWS_REGION", "eu-central-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "x")
	cfg, note, err = wiring.ToolAWSConfig(context.Background())
	if err != nil || cfg.Region != "eu-central-1" || note != "" {
		t.Errorf("configured: region %q, note %q, %v", cfg.Region, note, err)
	}
}

func TestToolAWSConfigWithoutRegionSaysWhatToSet(t *testing.T) {
	bare(t)
	_, _, err := wiring.ToolAWSConfig(context.Background())
	if err == nil || !strings.Contains(err.Error(), "AWS_REGION") {
		t.Errorf("no region, no endpoint: %v; want an error naming AWS_REGION", err)
	}
}
