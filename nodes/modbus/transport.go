package modbus

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/goburrow/modbus"
)

// link is one transport to a device: TCP, RTU or ASCII over a serial line,
// or RTU frames over TCP (the package's TELNET / RTU-BUFFERED TCP types).
type link interface {
	Connect() error
	Close() error
	setUnit(u byte)
	client() modbus.Client
}

type tcpLink struct {
	h *modbus.TCPClientHandler
	c modbus.Client
}

func newTCPLink(addr string, timeout time.Duration) *tcpLink {
	h := modbus.NewTCPClientHandler(addr)
	h.Timeout = timeout
	// The client config owns the connection's life; goburrow's idle close
	// would hide a dead server until the next request.
	h.IdleTimeout = 0
	return &tcpLink{h: h, c: modbus.NewClient(h)}
}

func (l *tcpLink) Connect() error        { return l.h.Connect() }
func (l *tcpLink) Close() error          { return l.h.Close() }
func (l *tcpLink) setUnit(u byte)        { l.h.SlaveId = u }
func (l *tcpLink) client() modbus.Client { return l.c }

type rtuLink struct {
	h *modbus.RTUClientHandler
	c modbus.Client
}

func (l *rtuLink) Connect() error        { return l.h.Connect() }
func (l *rtuLink) Close() error          { return l.h.Close() }
func (l *rtuLink) setUnit(u byte)        { l.h.SlaveId = u }
func (l *rtuLink) client() modbus.Client { return l.c }

type asciiLink struct {
	h *modbus.ASCIIClientHandler
	c modbus.Client
}

func (l *asciiLink) Connect() error        { return l.h.Connect() }
func (l *asciiLink) Close() error          { return l.h.Close() }
func (l *asciiLink) setUnit(u byte)        { l.h.SlaveId = u }
func (l *asciiLink) client() modbus.Client { return l.c }

// rtuTCPLink sends RTU frames (CRC, no MBAP header) over a TCP stream, as
// serial gateways do; goburrow has the RTU framing but no such transport.
type rtuTCPLink struct {
	pk      *modbus.RTUClientHandler // framing only; its serial port is never opened
	addr    string
	timeout time.Duration
	mu      sync.Mutex
	conn    net.Conn
	c       modbus.Client
}

func newRTUTCPLink(addr string, timeout time.Duration) *rtuTCPLink {
	l := &rtuTCPLink{pk: modbus.NewRTUClientHandler(""), addr: addr, timeout: timeout}
	l.c = modbus.NewClient2(l.pk, l)
	return l
}

func (l *rtuTCPLink) setUnit(u byte)        { l.pk.SlaveId = u }
func (l *rtuTCPLink) client() modbus.Client { return l.c }

func (l *rtuTCPLink) Connect() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil {
		return nil
	}
	c, err := net.DialTimeout("tcp", l.addr, l.timeout)
	if err != nil {
		return err
	}
	l.conn = c
	return nil
}

func (l *rtuTCPLink) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return nil
	}
	err := l.conn.Close()
	l.conn = nil
	return err
}

// Send writes one RTU frame and reads the answer, whose length follows
// from its function code since RTU frames carry no length header.
func (l *rtuTCPLink) Send(adu []byte) ([]byte, error) {
	if err := l.Connect(); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.timeout > 0 {
		_ = l.conn.SetDeadline(time.Now().Add(l.timeout))
	}
	if _, err := l.conn.Write(adu); err != nil {
		return nil, err
	}
	var buf [256]byte
	if _, err := io.ReadFull(l.conn, buf[:3]); err != nil {
		return nil, err
	}
	n := 0
	switch fc := buf[1]; {
	case fc&0x80 != 0:
		n = 5
	case fc >= 1 && fc <= 4:
		n = 5 + int(buf[2])
	case fc == 5 || fc == 6 || fc == 15 || fc == 16:
		n = 8
	default:
		return nil, fmt.Errorf("modbus: unexpected function code %d in RTU response", fc)
	}
	if _, err := io.ReadFull(l.conn, buf[3:n]); err != nil {
		return nil, err
	}
	return append([]byte(nil), buf[:n]...), nil
}

func serialParity(p string) string {
	switch p {
	case "even":
		return "E"
	case "odd":
		return "O"
	}
	return "N"
}

func hostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}
