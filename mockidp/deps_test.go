package mockidp

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestImportGraphStaysSmall keeps mockidp importable by any test: it must
// not pull in the browser driver, the SQLite driver or a metrics library.
func TestImportGraphStaysSmall(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not in PATH")
	}
	out, err := exec.Command(gobin, "list", "-deps", ".").CombinedOutput()
	require.NoError(t, err, string(out))
	deps := string(out)
	require.Contains(t, deps, "github.com/oidcstack/oidcstack/internal/keys", "go list output looks wrong")
	for _, banned := range []string{"github.com/go-rod/", "modernc.org/sqlite", "github.com/prometheus/"} {
		assert.NotContains(t, deps, banned)
	}
	for _, line := range strings.Split(deps, "\n") {
		assert.False(t, strings.HasPrefix(line, "github.com/oidcstack/oidcstack/") &&
			!strings.HasPrefix(line, "github.com/oidcstack/oidcstack/internal/") &&
			line != "github.com/oidcstack/oidcstack/mockidp", "mockidp imports another service: %s", line)
	}
}
