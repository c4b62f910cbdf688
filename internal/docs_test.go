package internal_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// TestDocLinks fails when a relative link in README.md or docs/*.md names
// a file that is not in the repository, or a #fragment that is no heading
// of the page it points to (GitHub's heading anchors). Links in code
// blocks and code spans are not links.
func TestDocLinks(t *testing.T) {
	pages, _ := filepath.Glob("../docs/*.md")
	pages = append([]string{"../README.md"}, pages...)
	for _, e := range brokenLinks(t, pages) {
		t.Error(e)
	}
}

// TestDocLinksFindsBroken: the check itself sees a missing file, a missing
// heading, and nothing in code.
func TestDocLinksFindsBroken(t *testing.T) {
	dir := t.TempDir()
	page := filepath.Join(dir, "a.md")
	body := "# A page\n\n## Second, part 2\n[ok](a.md#second-part-2) [self](#a-page) [gone](b.md) [no heading](#nowhere)\n" +
		"`[code](c.md)`\n```\n[fenced](d.md)\n```\n[web](https://example.com/x)\n"
	if err := os.WriteFile(page, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	got := brokenLinks(t, []string{page})
	if len(got) != 2 || !strings.Contains(got[0], `"b.md"`) || !strings.Contains(got[1], `"#nowhere"`) {
		t.Errorf("broken links %q; want b.md and #nowhere alone", got)
	}
}

func brokenLinks(t *testing.T, pages []string) []string {
	t.Helper()
	var broken []string
	for _, page := range pages {
		for _, l := range links(t, page) {
			target, fragment, _ := strings.Cut(l.target, "#")
			file := page
			if target != "" {
				file = filepath.Join(filepath.Dir(page), target)
				if _, err := os.Stat(file); err != nil {
					broken = append(broken, fmt.Sprintf("%s:%d: link %q: %s does not exist", page, l.line, l.target, file))
					continue
				}
			}
			if fragment != "" && strings.HasSuffix(file, ".md") && !anchors(t, file)[fragment] {
				broken = append(broken, fmt.Sprintf("%s:%d: link %q: %s has no heading #%s", page, l.line, l.target, file, fragment))
			}
		}
	}
	return broken
}

type link struct {
	target string
	line   int
}

var (
	mdLink   = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	htmlLink = regexp.MustCompile(`(?:src|href)="([^"]+)"`)
	codeSpan = regexp.MustCompile("`[^`]*`")
)

// links are the relative link targets of a page, outside code.
func links(t *testing.T, page string) []link {
	t.Helper()
	raw, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	var out []link
	fenced := false
	for i, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if fenced {
			continue
		}
		line = codeSpan.ReplaceAllString(line, "")
		for _, re := range []*regexp.Regexp{mdLink, htmlLink} {
			for _, m := range re.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				out = append(out, link{target, i + 1})
			}
		}
	}
	return out
}

// anchors are the fragments GitHub gives a page's headings: lower case,
// punctuation dropped but for - and _, spaces as -, repeats numbered.
func anchors(t *testing.T, page string) map[string]bool {
	t.Helper()
	raw, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	out := map[string]bool{}
	fenced := false
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
		}
		if fenced || !strings.HasPrefix(line, "#") {
			continue
		}
		text := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(text) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		a := b.String()
		if n := seen[a]; n > 0 {
			out[a+"-"+strconv.Itoa(n)] = true
		} else {
			out[a] = true
		}
		seen[a]++
	}
	return out
}
