package proc

import (
	"fmt"
	"net"
	"sync"
)

// handedOut holds every address FreeAddr has returned, so that a port
// freed by a stopped child never goes to a second child of the same run.
var handedOut sync.Map

// FreeAddr returns a 127.0.0.1 address whose port was free a moment ago.
// NOTE: another program may take the port between the check and the
// child's listen. The child then fails to start and the suite reports it.
func FreeAddr() (string, error) {
	for range 100 {
		listener, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("pick a free port: %w", err)
		}
		addr := listener.Addr().String()
		if err := listener.Close(); err != nil {
			return "", fmt.Errorf("close listener on %s: %w", addr, err)
		}
		if _, taken := handedOut.LoadOrStore(addr, true); !taken {
			return addr, nil
		}
	}
	return "", fmt.Errorf("no unused loopback port found in 100 tries")
}
