//go:build !windows

package serialport

// comPortExists is nil off Windows: device paths are files there.
var comPortExists func(device string) bool
