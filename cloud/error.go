package cloud

import (
	"errors"
	"fmt"
)

// Code classifies an application error; transports map it to their own
// status, and only Internal hides its message from users.
type Code string

// Error codes.
const (
	Invalid         Code = "invalid"
	NotFound        Code = "not_found"
	Conflict        Code = "conflict"
	Unauthenticated Code = "unauthenticated"
	Forbidden       Code = "forbidden"
	// Unavailable: the service cannot do this here (no channel to send
	// a code with).
	Unavailable Code = "unavailable"
	// TooMany: a rate limit was reached; try again later.
	TooMany  Code = "too_many"
	Internal Code = "internal"
)

// Error is an application error with a message fit for the user.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf makes an application error.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of an application error, or Internal.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return Internal
}

// ErrorMessage returns the user-facing message of an error; an internal
// error's details stay in the log.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// IsNotFound reports whether err is a NotFound application error.
func IsNotFound(err error) bool { return ErrorCode(err) == NotFound }
