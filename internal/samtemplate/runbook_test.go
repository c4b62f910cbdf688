package samtemplate_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestRunbookCoversEveryAlarm: every alarm of template.yaml has its entry
// in docs/operations.md's runbook (a heading that names it), so a new
// alarm cannot ship without saying what to do when it fires.
func TestRunbookCoversEveryAlarm(t *testing.T) {
	tpl, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	var headings []string
	for _, line := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(line, "### ") {
			headings = append(headings, line)
		}
	}
	alarms := regexp.MustCompile(`(?m)^  (\w+):\n    Type: AWS::CloudWatch::Alarm$`).FindAllStringSubmatch(string(tpl), -1)
	if len(alarms) < 20 {
		t.Fatalf("found %d alarms in template.yaml; the pattern no longer matches", len(alarms))
	}
	for _, m := range alarms {
		found := false
		for _, h := range headings {
			if regexp.MustCompile(`\b` + m[1] + `\b`).MatchString(h) {
				found = true
			}
		}
		if !found {
			t.Errorf("alarm %s has no runbook heading in docs/operations.md", m[1])
		}
	}
}
