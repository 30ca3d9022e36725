// Package text holds the one way the operator shortens what it writes into
// bounded API fields (status messages, Event notes, annotations).
package text

import "unicode/utf8"

// Truncate returns s if it is at most n bytes long, or else its longest
// prefix that ends on a character boundary and leaves room for "...",
// followed by "...": never more than n bytes, never a broken character.
// n below 3 is taken as 3.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := max(n, 3) - 3
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
