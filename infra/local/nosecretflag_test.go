package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// No script, tool, test or document of the repository puts a secret on a
// command line, where ps shows it to every user of the machine: the
// gateway takes no secret flag, and curl gets credentials on stdin (-K -),
// not with -u and a variable.
func TestNoSecretOnACommandLine(t *testing.T) {
	forbidden := []struct {
		name string
		re   *regexp.Regexp
	}{
		{"the bootstrap secret as a flag", regexp.MustCompile(`-bootstrap-client-secret\b|"bootstrap-client-secret"`)},
		{"curl -u with a variable", regexp.MustCompile(`curl\b[^\n]*\s(-u|--user)\s+["']?[^\s"']*\$`)},
	}
	self, _ := filepath.Abs("nosecretflag_test.go")
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "bin", "node_modules", ".aws-sam", ".local":
				return filepath.SkipDir
			}
			if strings.HasPrefix(d.Name(), ".venv") {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".sh", ".py", ".md", ".toml", ".yaml", ".yml":
		default:
			if d.Name() != "Makefile" {
				return nil
			}
		}
		if abs, _ := filepath.Abs(path); abs == self {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, f := range forbidden {
			if loc := f.re.FindIndex(b); loc != nil {
				line := 1 + strings.Count(string(b[:loc[0]]), "\n")
				t.Errorf("%s:%d: %s", path, line, f.name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
