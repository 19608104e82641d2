// Package gen holds the code generated from openapi.yaml: models, the Echo strict-server
// interface and the embedded spec. Never edit it by hand; run `make gen`.
package gen

//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../openapi.yaml
