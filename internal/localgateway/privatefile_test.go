package localgateway

import (
	"os"
	"path/filepath"
	"testing"
)

// Files that hold secrets end 0600 even where an older file, or a
// temporary file a crash left behind, had a looser mode.
func TestWritePrivateFileNarrowsMode(t *testing.T) {
	for _, tc := range []struct {
		name  string
		older string // a file that exists before the write, mode 0644
	}{
		{name: "an older file", older: "secrets.json"},
		{name: "a temporary file a crash left", older: "secrets.json.tmp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "secrets.json")
			if err := os.WriteFile(filepath.Join(dir, tc.older), []byte("{}"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(filepath.Join(dir, tc.older), 0o644); err != nil { // past the umask
				t.Fatal(err)
			}
			if err := writeJSON(path, map[string]string{"hash": "x"}); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := fi.Mode().Perm(), os.FileMode(0o600); got != want {
				t.Errorf("mode %v, want %v", got, want)
			}
			if b, _ := os.ReadFile(path); string(b) != `{"hash":"x"}` {
				t.Errorf("content %s", b)
			}
		})
	}
}
