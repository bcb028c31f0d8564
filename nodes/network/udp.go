package network

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// Shared machinery of the UDP nodes: Node-RED keeps one socket per port
// (udpInputPortsInUse), shared by udp in nodes on the same port and by a
// udp out node that sends from it.

type udpSock struct {
	conn    *net.UDPConn
	network string // udp4, udp6

	mu      sync.Mutex
	inputs  []*udpIn
	reading bool
	users   int
}

var udpPorts = struct {
	sync.Mutex
	m map[string]*udpSock
}{m: map[string]*udpSock{}}

// udpNetwork is Node-RED's ipv property as a Go network.
func udpNetwork(ipv string) string {
	if ipv == "udp6" {
		return "udp6"
	}
	return "udp4"
}

// udpOpen binds a socket to port (0: any) with Node's reuseAddr, and
// SO_BROADCAST when asked.
func udpOpen(network string, port int, broadcast bool) (*net.UDPConn, error) {
	return udpOpenOn(netListenHost, network, port, broadcast)
}

func udpOpenOn(host, network string, port int, broadcast bool) (*net.UDPConn, error) {
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) { serr = setSockopts(fd, broadcast) }); err != nil {
			return err
		}
		return serr
	}}
	pc, err := lc.ListenPacket(context.Background(), network, net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return nil, err
	}
	return pc.(*net.UDPConn), nil
}

// udpInterface finds the interface Node-RED's iface names: an interface
// name or one of its addresses.
func udpInterface(iface string) (*net.Interface, string, error) {
	if iface == "" {
		return nil, "", nil
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, "", err
	}
	for i := range ifs {
		addrs, _ := ifs[i].Addrs()
		first := ""
		for _, a := range addrs {
			ip := addrIP(a)
			if first == "" && ip.To4() != nil {
				first = ip.String()
			}
			if ip.String() == iface {
				return &ifs[i], iface, nil
			}
		}
		if ifs[i].Name == iface {
			return &ifs[i], first, nil
		}
	}
	return nil, "", fmt.Errorf("udp: interface %s not found", iface)
}

func addrIP(a net.Addr) net.IP {
	switch t := a.(type) {
	case *net.IPNet:
		return t.IP
	case *net.IPAddr:
		return t.IP
	}
	return nil
}

// joinGroup adds the socket to a multicast group, with Node-RED's TTL 128
// and no loopback of what it sends.
func joinGroup(conn *net.UDPConn, network, group string, ifi *net.Interface) error {
	ip := net.ParseIP(group)
	if ip == nil || !ip.IsMulticast() {
		return errors.New("Bad Multicast Address")
	}
	if network == "udp6" {
		p := ipv6.NewPacketConn(conn)
		_ = p.SetMulticastHopLimit(128)
		_ = p.SetMulticastLoopback(false)
		return p.JoinGroup(ifi, &net.UDPAddr{IP: ip})
	}
	p := ipv4.NewPacketConn(conn)
	_ = p.SetMulticastTTL(128)
	_ = p.SetMulticastLoopback(false)
	if ifi != nil {
		_ = p.SetMulticastInterface(ifi)
	}
	return p.JoinGroup(ifi, &net.UDPAddr{IP: ip})
}

func leaveGroup(conn *net.UDPConn, network, group string, ifi *net.Interface) {
	ip := net.ParseIP(group)
	if ip == nil {
		return
	}
	if network == "udp6" {
		_ = ipv6.NewPacketConn(conn).LeaveGroup(ifi, &net.UDPAddr{IP: ip})
		return
	}
	_ = ipv4.NewPacketConn(conn).LeaveGroup(ifi, &net.UDPAddr{IP: ip})
}

// udpError words a socket error as the udp nodes report it.
func udpError(port int, err error) error {
	if errors.Is(err, syscall.EACCES) && port < 1024 {
		return errors.New("UDP access error, you may need root access for ports below 1024")
	}
	code := err.Error()
	for _, e := range []struct {
		errno syscall.Errno
		name  string
	}{{syscall.EADDRINUSE, "EADDRINUSE"}, {syscall.EACCES, "EACCES"}, {syscall.EADDRNOTAVAIL, "EADDRNOTAVAIL"}, {syscall.EINVAL, "EINVAL"}} {
		if errors.Is(err, e.errno) {
			code = e.name
		}
	}
	return fmt.Errorf("error: %s", code)
}

// release drops one user of a shared socket and closes it with the last.
func (s *udpSock) release(key string) {
	s.mu.Lock()
	s.users--
	last := s.users <= 0
	s.mu.Unlock()
	if !last {
		return
	}
	udpPorts.Lock()
	if udpPorts.m[key] == s {
		delete(udpPorts.m, key)
	}
	udpPorts.Unlock()
	_ = s.conn.Close()
}

// attach adds a udp in node to the socket and starts reading it.
func (s *udpSock) attach(n *udpIn) {
	s.mu.Lock()
	s.inputs = append(s.inputs, n)
	start := !s.reading
	s.reading = true
	s.mu.Unlock()
	if start {
		go s.read()
	}
}

func (s *udpSock) detach(n *udpIn) {
	s.mu.Lock()
	out := s.inputs[:0:0]
	for _, x := range s.inputs {
		if x != n {
			out = append(out, x)
		}
	}
	s.inputs = out
	s.mu.Unlock()
}

// read hands every datagram to the udp in nodes on the socket.
func (s *udpSock) read() {
	buf := make([]byte, 65536)
	for {
		k, from, err := s.conn.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		s.mu.Lock()
		inputs := append([]*udpIn(nil), s.inputs...)
		s.mu.Unlock()
		for _, n := range inputs {
			n.deliver(buf[:k], from)
		}
	}
}

// udpHost is how Node prints a peer address.
func udpHost(a *net.UDPAddr) string {
	ip := a.IP
	if v4 := ip.To4(); v4 != nil {
		ip = v4
	}
	s := ip.String()
	if a.Zone != "" {
		s += "%" + a.Zone
	}
	return s
}

func portKey(p int) string { return strconv.Itoa(p) }

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}
