// Package typescript holds the end-to-end test of the TypeScript client in this directory: the
// client's types are generated from openapi.yaml by openapi-typescript (src/schema.d.ts,
// committed), its calls are made with openapi-fetch, and src/e2e.ts is compiled with tsc
// --strict and run with Node against a real server.
package typescript
