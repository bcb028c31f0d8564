//go:build !unix

package network

// setSockopts is a no-op where the unix socket options are not available;
// broadcasts may then be refused by the system.
func setSockopts(uintptr, bool) error { return nil }
