package store

import (
	"crypto/rand"
	"time"
)

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// idLength is the length of every object id, as the API documents it.
const idLength = 16

// An id begins with the millisecond it was made, written in idTimeLength digits of base 62
// whose byte order is their numeric order, counted from idEpoch. Ids made close together then
// sort together, so every index on an id grows at its end, as the tables do, instead of at a
// random page: a group commit of many creates touches the same few pages of each such index,
// whether the account holds ten contacts or a million. (At a second's precision, a busy
// second's ids still scattered over dozens of pages of each index.) The nine characters after
// the time are random (53 bits from crypto/rand), so ids stay unguessable; what an id gives
// away is when its object was created, which the object's created_at shows anyway.
const (
	idTimeLength   = 7
	idTimeAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" // in byte order
	idEpoch        = 1577836800000                                                    // 2020-01-01T00:00:00Z in ms; seven digits last until 2131
)

// NewID returns a new 16-character id of letters and digits: the time, then random characters.
func NewID() string { return newIDAt(time.Now()) }

func newIDAt(t time.Time) string {
	var id [idLength]byte
	ms := max(t.UnixMilli()-idEpoch, 0)
	for i := idTimeLength - 1; i >= 0; i-- {
		id[i] = idTimeAlphabet[ms%62]
		ms /= 62
	}
	copy(id[idTimeLength:], randomString(idLength-idTimeLength))
	return string(id[:])
}

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
