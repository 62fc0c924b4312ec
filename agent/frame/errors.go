package frame

import "fmt"

// wrapf wraps one of the package's refusal errors with detail.
func wrapf(err error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", err, fmt.Sprintf(format, args...))
}
