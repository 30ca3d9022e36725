package manifests

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// The distroless base make image-distroless pulls is the one the
// Dockerfile's final stage is built on, pinned by the same digest, and
// every base the Dockerfile names is pinned by digest.
func TestImageBasesArePinnedAlike(t *testing.T) {
	root := filepath.Join("..", "..")
	dockerfile, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	froms := regexp.MustCompile(`(?m)^FROM (?:--platform=\S+ )?(\S+)`).FindAllSubmatch(dockerfile, -1)
	if len(froms) < 2 {
		t.Fatalf("the Dockerfile has %d stages, want a builder and a base", len(froms))
	}
	pinned := regexp.MustCompile(`^[^@\s]+:[^@\s]+@sha256:[0-9a-f]{64}$`)
	for _, f := range froms {
		if !pinned.Match(f[1]) {
			t.Errorf("Dockerfile base %s is not pinned by tag and digest", f[1])
		}
	}
	last := string(froms[len(froms)-1][1])
	m := regexp.MustCompile(`(?m)^DISTROLESS_BASE \?= (\S+)$`).FindSubmatch(makefile)
	if m == nil {
		t.Fatal("the Makefile sets no DISTROLESS_BASE")
	}
	if string(m[1]) != last {
		t.Errorf("make image-distroless pulls %s, the Dockerfile ships on %s", m[1], last)
	}
}
