// Package protocol holds the contract of the Protocol API, openapi.yaml, embedded as written so
// the server can serve it to clients and to its documentation page.
package protocol

import _ "embed"

// OpenAPI is openapi.yaml, byte for byte.
//
//go:embed openapi.yaml
var OpenAPI []byte
