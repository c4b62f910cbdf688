package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecondRunLeavesTheFirstAlone: make run on a port that is taken fails
// before it makes a manager or writes the credentials file, and says what
// holds the port and where the running gateway's credentials are.
func TestSecondRunLeavesTheFirstAlone(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "local")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0") // the first gateway's port
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	creds := filepath.Join(t.TempDir(), "credentials.json")
	first := []byte(`{"clientId":"first","clientSecret":"the first run's secret"}` + "\n")
	if err := os.WriteFile(creds, first, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--addr", ln.Addr().String(), "--credentials-file", creds, "--template", "../../template.yaml")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err == nil {
		t.Fatal("a second run on a taken port succeeded")
	}
	if got, _ := os.ReadFile(creds); !bytes.Equal(got, first) {
		t.Errorf("the credentials file changed: %s", got)
	}
	if strings.Contains(stdout.String(), "client_id") || strings.Contains(stdout.String(), "client_secret") {
		t.Errorf("a second run printed a manager: %s", stdout.String())
	}
	for _, want := range []string{"cannot listen on " + ln.Addr().String(), "process ", "credentials are in " + creds, "--addr"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("the message lacks %q:\n%s", want, stderr.String())
		}
	}
}
