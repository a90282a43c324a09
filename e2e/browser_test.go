package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/launcher"
)

// chromiumEnv names a Chrome or Chromium binary to use instead of the
// ones searched on PATH.
const chromiumEnv = "OIDCSTACK_CHROMIUM"

// browserCandidates are tried in order when chromiumEnv is unset.
var browserCandidates = []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// findChromium returns the path of a local Chrome or Chromium, or an error
// that explains how to install one.
func findChromium() (string, error) {
	if path := os.Getenv(chromiumEnv); path != "" {
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("%s=%q: %w", chromiumEnv, path, err)
		}
		return path, nil
	}
	for _, name := range browserCandidates {
		if path, err := exec.LookPath(name); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("no Chrome or Chromium found (tried %v): on Debian or Ubuntu run `sudo apt-get install chromium`, "+
		"or set %s to the path of a Chrome or Chromium binary; the browser tests never download one", browserCandidates, chromiumEnv)
}

// browserPool launches one browser per test binary, on first use, and
// closes it in TestMain.
type browserPool struct {
	once     sync.Once
	browser  *rod.Browser
	launcher *launcher.Launcher
	dataDir  string
	err      error
}

var shared browserPool

func TestMain(m *testing.M) {
	code := m.Run()
	shared.close()
	os.Exit(code)
}

// sharedBrowser returns the test binary's browser, launching it on the
// first call. A missing browser fails the test with install instructions.
func sharedBrowser(t *testing.T) *rod.Browser {
	t.Helper()
	shared.once.Do(shared.launch)
	if shared.err != nil {
		t.Fatalf("browser tests need Chromium: %v", shared.err)
	}
	return shared.browser
}

func (p *browserPool) launch() {
	bin, err := findChromium()
	if err != nil {
		p.err = err
		return
	}
	p.dataDir, err = os.MkdirTemp("", "oidcstack-e2e-chromium-")
	if err != nil {
		p.err = err
		return
	}
	p.launcher = launcher.New().
		Bin(bin).
		Headless(true).
		// Chromium refuses to start as root with its sandbox on.
		NoSandbox(runningAsRoot()).
		UserDataDir(p.dataDir).
		// Leakless kills the browser if the test binary dies.
		Leakless(true).
		// Keep every lookup on this machine: the tests use localhost and
		// 127.0.0.1 only, and background lookups would leave the machine.
		Set("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1").
		Set("disable-background-networking").
		Set("disable-component-update").
		Set("disable-sync").
		Set("disable-gpu").
		Set("disable-quic").
		Set("no-first-run")
	controlURL, err := p.launcher.Launch()
	if err != nil {
		p.err = fmt.Errorf("launch %s: %w", bin, err)
		return
	}
	browser := rod.New().ControlURL(controlURL)
	if err := browser.Connect(); err != nil {
		p.err = fmt.Errorf("connect to %s: %w", bin, err)
		return
	}
	p.browser = browser
}

func (p *browserPool) close() {
	if p.browser != nil {
		_ = p.browser.Close()
	}
	if p.launcher != nil {
		p.launcher.Kill()
		p.launcher.Cleanup()
	}
	if p.dataDir != "" {
		_ = os.RemoveAll(p.dataDir)
	}
}

func runningAsRoot() bool {
	return runtime.GOOS != "windows" && os.Geteuid() == 0
}

// artifactDir returns the folder where a failing test saves its screenshot
// and step traces.
func artifactDir(t *testing.T) string {
	dir := filepath.Join("artifacts", filepath.Base(t.Name()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("create %s: %v", dir, err)
	}
	return dir
}
