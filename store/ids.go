package store

import "crypto/rand"

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// idLength is the length of every object id, as the API documents it.
const idLength = 16

// NewID returns a random 16-character id of letters and digits from crypto/rand.
func NewID() string { return randomString(idLength) }

// randomString draws n characters uniformly from idAlphabet. Bytes at or above 248 (the largest
// multiple of 62 below 256) are thrown away, so no character is more likely than another.
func randomString(n int) string {
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/4+8)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			panic("crypto/rand failed: " + err.Error()) // cannot happen on supported platforms
		}
		for _, b := range buf {
			if b < 248 && len(out) < n {
				out = append(out, idAlphabet[b%62])
			}
		}
	}
	return string(out)
}

// ValidID reports whether s has the shape of an id, so malformed ids never reach a query.
func ValidID(s string) bool {
	if len(s) != idLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
