// Package protocolclient is a Go client for the Protocol API, generated from openapi.yaml by
// oapi-codegen. Never edit client.gen.go by hand; run `make gen`.
package protocolclient

//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../../../openapi.yaml
