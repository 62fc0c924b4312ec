// Package kiosktest drives the kiosk and member pages in a real headless
// Chromium (Debian's chromium), against the real cloud and agent binaries
// with a simulated scanner on a pseudo-terminal.
package kiosktest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/chromedp/chromedp"
)

// RebindHost is a foreign name the browser resolves to 127.0.0.1.
const RebindHost = "rebind.test"

// Browser is a headless Chromium with one tab.
type Browser struct {
	Ctx    context.Context
	cancel []context.CancelFunc
	Path   string
}

// FindChromium returns the browser's path; it is an error, not a skip,
// when it is missing (make deps installs it).
func FindChromium() (string, error) {
	for _, name := range []string{os.Getenv("MEMBERPASS_CHROMIUM"), "chromium", "chromium-browser"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("chromium not found on PATH: run make deps (installs Debian's chromium) or set MEMBERPASS_CHROMIUM")
}

// StartBrowser starts a headless Chromium with a fresh profile in dir.
func StartBrowser(path, dir string, logf func(string, ...any)) (*Browser, error) {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(dir),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("force-color-profile", "srgb"),
		// A name that resolves to the kiosk, as a DNS-rebinding page's would.
		chromedp.Flag("host-resolver-rules", "MAP "+RebindHost+" 127.0.0.1"),
		chromedp.WindowSize(1024, 768),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(logf))
	b := &Browser{Ctx: ctx, cancel: []context.CancelFunc{cancel, acancel}, Path: path}
	// Start it now, so a browser that cannot run fails here. The first
	// call must use the tab's own context: cancelling it would close the
	// browser.
	if err := chromedp.Do(ctx); err != nil {
		b.Close()
		return nil, fmt.Errorf("start chromium %s: %w", path, err)
	}
	sctx, scancel := context.WithTimeout(ctx, 30*time.Second)
	defer scancel()
	if _, err := chromedp.Run(sctx, chromedp.Evaluate[string](`navigator.userAgent`)); err != nil {
		b.Close()
		return nil, fmt.Errorf("start chromium %s: %w", path, err)
	}
	return b, nil
}

// Close stops the browser.
func (b *Browser) Close() {
	for _, c := range b.cancel {
		c()
	}
}
