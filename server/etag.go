package server

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"

	"protocol/store"
)

// etagOf is the strong ETag of an object's JSON representation: a hash of it, so it changes
// exactly when anything the client can see changes, derived fields included.
func etagOf(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
}

// etagListed reports whether header (an If-Match or If-None-Match value: "*" or a list of
// entity tags) names tag. weak allows W/ tags, as If-None-Match does; If-Match compares strongly.
func etagListed(header, tag string, weak bool) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" {
			return true
		}
		if weak {
			t = strings.TrimPrefix(t, "W/")
		}
		if t == tag {
			return true
		}
	}
	return false
}

var errPreconditionFailed = &apiError{Status: http.StatusPreconditionFailed, Code: codePreconditionFailed,
	Message: "The object has changed since the ETag in If-Match was read; retrieve it again.", Param: "If-Match"}

// ifMatch turns an If-Match header into a store precondition, or nil when there is none. enc
// is the object's JSON encoder, whose bytes the ETag is made of.
func ifMatch[T any](header *string, enc func([]byte, T) []byte) store.Precondition[T] {
	if header == nil {
		return nil
	}
	return func(current T) error {
		if !etagListed(*header, etagOf(enc(nil, current)), false) {
			return errPreconditionFailed
		}
		return nil
	}
}

// notModified reports whether an If-None-Match header names the object's current tag.
func notModified(header *string, tag string) bool {
	return header != nil && etagListed(*header, tag, true)
}
