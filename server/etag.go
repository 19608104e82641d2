package server

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"protocol/store"
)

// etagOf is the strong ETag of an object's representation: a hash of its JSON, so it changes
// exactly when anything the client can see changes, derived fields included.
func etagOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic("marshal a model: " + err.Error()) // generated models always marshal
	}
	sum := sha256.Sum256(b)
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

// ifMatch turns an If-Match header into a store precondition, or nil when there is none.
func ifMatch[S, W any](header *string, out func(S) W) store.Precondition[S] {
	if header == nil {
		return nil
	}
	return func(current S) error {
		if !etagListed(*header, etagOf(out(current)), false) {
			return errPreconditionFailed
		}
		return nil
	}
}

// notModified reports whether an If-None-Match header names the object's current tag.
func notModified(header *string, tag string) bool {
	return header != nil && etagListed(*header, tag, true)
}
