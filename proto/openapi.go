// Package proto holds the .proto sources of every service and embeds the
// OpenAPI document generated from them.
package proto

import _ "embed"

// OpenAPI is the merged OpenAPI v2 document of every REST route, in JSON.
//
//go:embed gen/openapi/ledger.swagger.json
var OpenAPI []byte
