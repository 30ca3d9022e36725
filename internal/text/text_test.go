package text

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven chars", 10, "eleven ..."},
		{"naïve café", 6, "na..."}, // "ï" is two bytes: not split
		{"€€€€", 8, "€..."},        // three-byte characters
		{"anything", 1, "..."},     // too small for any text
	} {
		if got := Truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func FuzzTruncate(f *testing.F) {
	f.Add("naïve café", 6)
	f.Add(strings.Repeat("€", 100), 2048)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 3 || n > 1<<20 {
			return
		}
		got := Truncate(s, n)
		if len(got) > n {
			t.Fatalf("Truncate(%q, %d) = %q: %d bytes", s, n, got, len(got))
		}
		if len(s) <= n && got != s {
			t.Fatalf("Truncate(%q, %d) changed a string that fits", s, n)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("Truncate(%q, %d) = %q broke a character", s, n, got)
		}
		if len(s) > n && !strings.HasPrefix(s, strings.TrimSuffix(got, "...")) {
			t.Fatalf("Truncate(%q, %d) = %q is not a prefix", s, n, got)
		}
	})
}
