//go:build unix

package network

import "syscall"

// setSockopts sets SO_REUSEADDR (Node's reuseAddr, so several sockets can
// share a multicast port) and, when asked, SO_BROADCAST.
func setSockopts(fd uintptr, broadcast bool) error {
	if err := syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		return err
	}
	if broadcast {
		return syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_BROADCAST, 1)
	}
	return nil
}
