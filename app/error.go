// Package app holds Parrain's domain: shops, webhook events and the errors the
// rest of the code speaks. It imports no HTTP framework, ORM or platform SDK;
// adapters (app/postgres, app/httpapi, integrations/...) depend on it, never
// the other way round.
package app

import (
	"errors"
	"fmt"
)

// Error codes, shared by every adapter. The HTTP layer maps each to one status
// code in one place (app/httpapi), so handlers never pick status codes for
// domain failures themselves.
const (
	EINVALID      = "invalid"      // the caller sent something we refuse
	ENOTFOUND     = "not_found"    // the thing asked for does not exist (for this tenant)
	ECONFLICT     = "conflict"     // the request clashes with current state
	EUNAUTHORIZED = "unauthorized" // missing or bad credentials or signature
	EFORBIDDEN    = "forbidden"    // authenticated, but not allowed
	EUNAVAILABLE  = "unavailable"  // a dependency we need is down; the caller should retry
	EINTERNAL     = "internal"     // a bug or an unexpected failure; details stay in the logs
	ETOOLARGE     = "too_large"    // the body is over the limit
	ERATELIMITED  = "rate_limited" // too many requests
)

// Error is a domain error: a code callers can branch on and a message safe to
// show to whoever made the request. The wrapped Err carries internal detail for
// logs only.
type Error struct {
	Code    string
	Message string
	Err     error
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap exposes the wrapped error to errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted public message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with the given code and public message that wraps err.
func Wrap(code string, err error, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the public message of the first *Error in err's chain.
// Other errors get a generic message so internal detail never reaches users.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
