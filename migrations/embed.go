// Package migrations holds Parrain's SQL schema as goose migration files,
// embedded in the binary. The schema is owned here, not by GORM: `parrain
// migrate up` applies it and the server refuses to start while any is pending.
package migrations

import "embed"

// FS holds the *.sql migration files.
//
//go:embed *.sql
var FS embed.FS
