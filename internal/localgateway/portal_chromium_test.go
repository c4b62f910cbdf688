package localgateway_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browser is headless Chromium on one page, its console kept: on failure
// the test saves a screenshot and the console next to each other.
type browser struct {
	t       *testing.T
	ctx     context.Context
	mu      sync.Mutex
	console []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := os.Getenv("CHROMIUM")
	if path == "" {
		path, _ = exec.LookPath("chromium")
	}
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but no chromium (Debian package chromium; .ci/run installs it)")
		}
		t.Skip("no chromium")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.WindowSize(1200, 900), chromedp.Flag("disable-dev-shm-usage", true))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	b := &browser{t: t, ctx: ctx}
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m.String())
			b.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			b.saveArtifacts()
		}
		cancelCtx()
		cancelAlloc()
	})
	return b
}

func (b *browser) saveArtifacts() {
	dir := os.Getenv("BROWSER_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "modules-browser")
	}
	_ = os.MkdirAll(dir, 0o755)
	name := strings.NewReplacer("/", "_", " ", "_").Replace(b.t.Name())
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
		_ = os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	}
	b.mu.Lock()
	_ = os.WriteFile(filepath.Join(dir, name+".console.txt"), []byte(strings.Join(b.console, "\n")), 0o644)
	b.mu.Unlock()
	b.t.Logf("screenshot and console log in %s", dir)
}

// stepTimeout bounds each step: a page that never shows what a step waits
// for fails the test with that step's name, not at the test's deadline.
const stepTimeout = 20 * time.Second

// run runs actions, failing the test with what failed.
func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// get runs an action that returns a value.
func get[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// button is the XPath of a button by its visible text.
func button(text string) string { return fmt.Sprintf(`//button[normalize-space()=%q]`, text) }

// control is the XPath of a button, or a link, by its visible text.
func control(text string) string {
	return fmt.Sprintf(`//*[(self::button or self::a) and normalize-space()=%q]`, text)
}

func (b *browser) click(text string) {
	b.t.Helper()
	b.run("click "+text, chromedp.WaitVisible(control(text)), chromedp.Click(control(text)))
}

// tick clicks a checkbox by its id.
func (b *browser) tick(id string) {
	b.t.Helper()
	b.run("tick "+id, chromedp.WaitVisible(chromedp.CSS("#"+id)), chromedp.Click(chromedp.CSS("#"+id)))
}

// value is an input's current value.
func (b *browser) value(id string) string {
	b.t.Helper()
	return evalJS[string](b, fmt.Sprintf(`document.getElementById(%q).value`, id))
}

// message waits for the visible message (a save, a copy, a delete) to
// hold text, and dismisses it.
func (b *browser) message(text string) {
	b.t.Helper()
	b.run("message "+text, chromedp.WaitVisible(fmt.Sprintf(`//div[@id="message"]/p[contains(., %q)]`, text)))
	b.click("Dismiss")
	b.run("message dismissed", chromedp.WaitNotVisible(chromedp.CSS("#message")))
}

func (b *browser) fill(id, value string) {
	b.t.Helper()
	b.run("fill "+id, chromedp.WaitVisible(chromedp.CSS("#"+id)))
	// set, then an input event as typing sends: the page keeps its draft on it
	evalJS[bool](b, fmt.Sprintf(`(() => { const e = document.getElementById(%q); e.value = %q; return e.dispatchEvent(new Event("input", {bubbles: true})); })()`, id, value))
}

// heading waits for the view's heading to read text.
func (b *browser) heading(text string) {
	b.t.Helper()
	b.run("heading "+text, chromedp.WaitVisible(fmt.Sprintf(`//h2[normalize-space()=%q]`, text)))
}

func evalJS[T any](b *browser, js string) T {
	b.t.Helper()
	return get(b, "evaluate "+js, chromedp.Evaluate[T](js))
}

// fieldError waits for the field's error and returns it, checking the
// field is marked invalid for assistive technology.
func (b *browser) fieldError(id string) string {
	b.t.Helper()
	b.run("error of "+id, chromedp.WaitVisible(chromedp.CSS("#"+id+"-error")))
	text := get(b, "error text of "+id, chromedp.Text(chromedp.CSS("#"+id+"-error")))
	if invalid := evalJS[string](b, fmt.Sprintf(`document.getElementById(%q).getAttribute("aria-invalid") || ""`, id)); invalid != "true" {
		b.t.Errorf("%s shows an error but is not aria-invalid", id)
	}
	return text
}

// snapshot saves a screenshot for README.md when DOCS_SCREENSHOTS names a
// directory (make screenshots).
func (b *browser) snapshot(name string) {
	dir := os.Getenv("DOCS_SCREENSHOTS")
	if dir == "" {
		return
	}
	png := get(b, "screenshot", chromedp.CaptureScreenshot())
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Error(err)
	}
}

// widths are the viewports every view is checked at: a desktop and a
// phone (390 px, as an iPhone 12 to 15).
var widths = []struct {
	suffix        string
	width, height int64
}{{"", 1440, 900}, {"-phone", 390, 844}}

// atBothWidths checks the view at each width: no horizontal page scroll,
// the heading apart from the tenant line, axe-core (when axeSource is
// set); a view named portal-… has its picture taken for docs/
// (DOCS_SCREENSHOTS).
func (b *browser) atBothWidths(name, axeSource string) {
	b.t.Helper()
	for _, w := range widths {
		b.run(fmt.Sprintf("%d px", w.width), chromedp.EmulateViewport(w.width, w.height))
		where := fmt.Sprintf("%s at %d px", name, w.width)
		if sw, cw := evalJS[int](b, `document.documentElement.scrollWidth`), evalJS[int](b, `document.documentElement.clientWidth`); sw > cw {
			b.t.Errorf("%s: the page scrolls sideways (scrollWidth %d > clientWidth %d)", where, sw, cw)
		}
		if evalJS[bool](b, `(() => {
			const a = document.querySelector("h1").getBoundingClientRect(), w = document.getElementById("who").getBoundingClientRect();
			return w.width > 0 && a.right > w.left && w.right > a.left && a.bottom > w.top && w.bottom > a.top;
		})()`) {
			b.t.Errorf("%s: the heading runs into the tenant line", where)
		}
		if axeSource != "" {
			b.accessible(where, axeSource)
		}
		if strings.HasPrefix(name, "portal-") { // the pictures of docs/portal.md
			b.snapshot(name + w.suffix)
		}
	}
	b.run("back to the desktop", chromedp.EmulateViewport(widths[0].width, widths[0].height))
}

// axe is axe-core (pinned in the Makefile, fetched by make test into
// bin/axe.min.js, or AXE_JS).
func axe(t *testing.T) string {
	t.Helper()
	path := os.Getenv("AXE_JS")
	if path == "" {
		path = "../../bin/axe.min.js"
	}
	src, err := os.ReadFile(path)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but no axe-core at %s (make test fetches it): %v", path, err)
		}
		t.Skipf("no axe-core at %s (make bin/axe.min.js)", path)
	}
	return string(src)
}

// violations runs axe-core on the page and returns its serious and
// critical violations, each with the rule and the elements.
func (b *browser) violations(where, axeSource string) []string {
	b.t.Helper()
	if !evalJS[bool](b, `typeof axe !== "undefined"`) {
		get(b, "inject axe-core", chromedp.Evaluate[any](axeSource+";1"))
	}
	return get(b, "axe on "+where, chromedp.Evaluate[[]string](`axe.run(document, {resultTypes: ["violations"]}).then((r) =>
		r.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
			.map((v) => v.id + " (" + v.impact + "): " + v.nodes.map((n) => n.target.join(" ")).join(", ")))`, chromedp.EvalAwaitPromise))
}

// accessible fails the test on every serious or critical violation.
func (b *browser) accessible(where, axeSource string) {
	b.t.Helper()
	for _, v := range b.violations(where, axeSource) {
		b.t.Errorf("%s: %s", where, v)
	}
}

// nowhere fails the test if secret is in the DOM (inputs' values
// included), storage, cookies or the URL.
func (b *browser) nowhere(where, secret string) {
	b.t.Helper()
	html := evalJS[string](b, `document.documentElement.outerHTML + [...document.querySelectorAll("input, textarea")].map((e) => e.value).join(" ")`)
	storage := evalJS[string](b, `JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])`)
	cookies := evalJS[string](b, `document.cookie`)
	url := evalJS[string](b, `location.href`)
	for name, v := range map[string]string{"DOM": html, "storage": storage, "cookies": cookies, "URL": url} {
		if strings.Contains(v, secret) {
			b.t.Errorf("%s: the client secret is in the %s", where, name)
		}
	}
}

// leavingAsks reports whether leaving the page would ask first: whether
// the page cancels a beforeunload event.
func (b *browser) leavingAsks() bool {
	b.t.Helper()
	return evalJS[bool](b, `(() => { const e = new Event("beforeunload", {cancelable: true}); window.dispatchEvent(e); return e.defaultPrevented; })()`)
}

// hash is the URL's fragment: the view's address.
func (b *browser) hash() string {
	b.t.Helper()
	return evalJS[string](b, `location.hash`)
}
