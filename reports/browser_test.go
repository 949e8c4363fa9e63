package reports

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

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/charisbench/charisbench/charis"
)

// pageWidth is the window the page must fit: a laptop's browser.
const pageWidth = 1280

// chromium finds a headless-capable Chromium: $CHARISBENCH_CHROMIUM, else chromium or
// chromium-browser on PATH. Without one the browser test skips, unless
// CHARISBENCH_REQUIRE_CHROMIUM=1 (make test installs Debian's chromium and sets it).
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHARISBENCH_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CHARISBENCH_REQUIRE_CHROMIUM") == "1" {
		t.Fatal("chromium is required (CHARISBENCH_REQUIRE_CHROMIUM=1) but not found: make test installs Debian's chromium")
	}
	t.Skip("no chromium on PATH (make test installs it)")
	return ""
}

// pageCheck is what a browser saw of a page.
type pageCheck struct {
	Broken   []string // images that did not load
	Errors   []string // console errors, uncaught exceptions, failed loads
	Width    int      // the document's scroll width
	Overflow []string // elements reaching past the window's right edge
}

func (c pageCheck) problems() []string {
	var out []string
	for _, b := range c.Broken {
		out = append(out, "image did not load: "+b)
	}
	for _, e := range c.Errors {
		out = append(out, "console: "+e)
	}
	if c.Width > pageWidth {
		out = append(out, fmt.Sprintf("page is %d px wide, wider than a %d px window: %s", c.Width, pageWidth, strings.Join(c.Overflow, ", ")))
	}
	return out
}

// inspect opens page in headless Chromium at pageWidth and reports what it saw; a full-page
// screenshot goes to shot when shot is not "".
func inspect(t *testing.T, chrome, page, shot string) pageCheck {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chrome), chromedp.NoSandbox,
		chromedp.WindowSize(pageWidth, 900), chromedp.Flag("hide-scrollbars", true))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	var (
		mu sync.Mutex
		c  pageCheck
	)
	errorf := func(s string) { mu.Lock(); c.Errors = append(c.Errors, s); mu.Unlock() }
	err := chromedp.Listen(ctx, func(ev any) { // starts the browser: no timeout on this context
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				var args []string
				for _, a := range e.Args {
					args = append(args, strings.Trim(string(a.Value), `"`)+a.Description)
				}
				errorf(strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			msg := e.ExceptionDetails.Text
			if x := e.ExceptionDetails.Exception; x != nil {
				msg += " " + x.Description
			}
			errorf(msg)
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError {
				errorf(e.Entry.Text)
			}
		}
	})
	if err != nil {
		t.Fatalf("starting chromium (%s): %v", chrome, err)
	}
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("chromium on %s: %v", page, err)
		}
	}
	must(chromedp.Do(tctx,
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, log.Enable, cdp.Empty{})
			return err
		}),
		chromedp.Navigate("file://"+page),
		chromedp.WaitReady(chromedp.CSS("body")),
	))
	_, err = chromedp.Run(tctx, chromedp.Evaluate[bool](`Promise.all(Array.from(document.images).map(i => i.complete ? 0 :
		new Promise(r => { i.addEventListener('load', r); i.addEventListener('error', r); }))).then(() => true)`, chromedp.EvalAwaitPromise))
	must(err)
	broken, err := chromedp.Run(tctx, chromedp.Evaluate[[]string](`Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.alt || i.src.slice(0, 60))`))
	must(err)
	width, err := chromedp.Run(tctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	must(err)
	overflow, err := chromedp.Run(tctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))`))
	must(err)
	if shot != "" {
		png, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
		must(err)
		must(os.MkdirAll(filepath.Dir(shot), 0o755))
		must(os.WriteFile(shot, png, 0o644))
	}
	mu.Lock()
	defer mu.Unlock()
	c.Broken, c.Width, c.Overflow = broken, width, overflow
	return c
}

// TestReportInBrowser: report.html of a small run, opened in headless Chromium 1280 px
// wide: every image loads, the console stays quiet, nothing is wider than the window. The
// screenshot is left in out/browser/report.png for a person to look at. Copies of the page
// broken on purpose (an image cut, a wide table, a script error) must each fail the check.
func TestReportInBrowser(t *testing.T) {
	chrome := chromium(t)
	dir := t.TempDir()
	if _, err := Write(dir, []*charis.Run{fixtureRun(t)}); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, "report.html")
	shot, err := filepath.Abs(filepath.Join("..", "out", "browser", "report.png"))
	if err != nil {
		t.Fatal(err)
	}
	// CHARISBENCH_REPORT_PAGE checks another report.html (examples/dreambench's; a relative
	// path is from the repository's root), its screenshot beside it.
	if p := os.Getenv("CHARISBENCH_REPORT_PAGE"); p != "" {
		if !filepath.IsAbs(p) {
			p = filepath.Join("..", p)
		}
		if page, err = filepath.Abs(p); err != nil {
			t.Fatal(err)
		}
		shot = strings.TrimSuffix(page, ".html") + ".png"
	}
	if p := inspect(t, chrome, page, shot).problems(); len(p) > 0 {
		t.Fatalf("report.html in chromium:\n  %s", strings.Join(p, "\n  "))
	}
	t.Logf("screenshot: %s", shot)

	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	const img = `<img src="data:image/png;base64,`
	if !strings.Contains(string(html), img) {
		t.Fatal("report.html embeds no PNG")
	}
	for _, c := range []struct{ name, old, new, want string }{
		{"an image cut", img, img + "AAAA", "image did not load"},
		{"a missing image file", img, `<img alt="missing.png" src="missing.png"><img src="data:image/png;base64,`, "image did not load: missing.png"},
		{"a table wider than the window", "</body>", `<table style="width:3000px"><tr><td>wide</td></tr></table></body>`, "wider than a 1280 px window"},
		{"a script error", "</body>", `<script>console.error("broken on purpose")</script></body>`, "console: broken on purpose"},
	} {
		t.Run(c.name, func(t *testing.T) {
			broken := filepath.Join(t.TempDir(), "report.html")
			if err := os.WriteFile(broken, []byte(strings.Replace(string(html), c.old, c.new, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			p := inspect(t, chrome, broken, "").problems()
			if !strings.Contains(strings.Join(p, "\n"), c.want) {
				t.Errorf("the check missed %s: problems %q, want %q", c.name, p, c.want)
			}
		})
	}
}
