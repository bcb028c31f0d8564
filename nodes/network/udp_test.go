package network

import (
	"fmt"
	"net"
	"testing"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/sluicehq/sluice/runtime/msg"
)

func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

func TestUDPInOut(t *testing.T) {
	inPort := freeUDPPort(t)
	h := newHTTPHarness(t, fmt.Sprintf(`[
{"id":"in1","type":"udp in","port":"%[1]d","ipv":"udp4","multicast":"false","datatype":"utf8","wires":[["sink1"]]},
{"id":"in2","type":"udp in","port":"%[1]d","ipv":"udp4","multicast":"false","datatype":"base64","wires":[["sink2"]]},
{"id":"out","type":"udp out","addr":"","port":"","outport":"","base64":false,"multicast":"false","wires":[]},
{"id":"reply","type":"udp out","addr":"127.0.0.1","port":"","outport":"%[1]d","base64":true,"multicast":"false","wires":[]},
{"id":"sink1","type":"wstest-sink"},{"id":"sink2","type":"wstest-sink"}]`, inPort), nil)
	// An independent client first.
	c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: inPort})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("héllo")); err != nil {
		t.Fatal(err)
	}
	from := c.LocalAddr().(*net.UDPAddr)
	m := h.next("sink1")
	want := fmt.Sprintf(`{"payload":"héllo","fromip":"127.0.0.1:%d","ip":"127.0.0.1","port":%d}`, from.Port, from.Port)
	m.Delete("_msgid")
	if got := string(msg.Marshal(m)); got != want {
		t.Errorf("udp in: %s\nwant %s", got, want)
	}
	// Both nodes on the port get the datagram.
	if p := h.next("sink2").Value("payload"); p != "aMOpbGxv" {
		t.Errorf("second node on the port: %v", p)
	}
	// udp out to msg.ip / msg.port; a number goes as its text.
	h.inject("out", fmt.Sprintf(`{"payload":42,"ip":"127.0.0.1","port":%d}`, inPort))
	if p := h.next("sink1").Value("payload"); p != "42" {
		t.Errorf("udp out: %v", p)
	}
	h.next("sink2")
	// Sending from the udp in node's port: the reply leaves from it.
	h.inject("reply", fmt.Sprintf(`{"payload":"aGk=","port":%d}`, from.Port))
	buf := make([]byte, 100)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	k, src, err := c.ReadFromUDP(buf)
	if err != nil || string(buf[:k]) != "hi" || src.Port != inPort {
		t.Errorf("reply %q from %v: %v", buf[:k], src, err)
	}
}

func TestUDPOutWarnings(t *testing.T) {
	h := newHTTPHarness(t, `[{"id":"out","type":"udp out","addr":"","port":"","wires":[]}]`, nil)
	h.inject("out", `{"payload":"x"}`)
	h.waitLog("out", "udp: ip address not set")
	h.inject("out", `{"payload":"x","ip":"127.0.0.1"}`)
	h.waitLog("out", "udp: port not set")
	h.inject("out", `{"payload":"x","ip":"127.0.0.1","port":70000}`)
	h.waitLog("out", "udp: port number not valid")
}

// multicastInterface finds an up interface that does multicast and has an
// IPv4 address.
func multicastInterface() (*net.Interface, string) {
	ifs, _ := net.Interfaces()
	for i := range ifs {
		if ifs[i].Flags&net.FlagUp == 0 || ifs[i].Flags&net.FlagMulticast == 0 {
			continue
		}
		addrs, _ := ifs[i].Addrs()
		for _, a := range addrs {
			if ip := addrIP(a); ip.To4() != nil {
				return &ifs[i], ip.String()
			}
		}
	}
	return nil, ""
}

func TestUDPMulticast(t *testing.T) {
	ifi, addr := multicastInterface()
	if ifi == nil {
		t.Skip("no multicast-capable interface with an IPv4 address here")
	}
	port := freeUDPPort(t)
	const group = "239.77.1.2"
	h := newHTTPHarness(t, fmt.Sprintf(`[{"id":"in","type":"udp in","iface":"%s","port":"%d","ipv":"udp4","multicast":"true","group":"%s","datatype":"utf8","wires":[["sink"]]},
{"id":"sink","type":"wstest-sink"}]`, ifi.Name, port, group), nil)
	h.waitStatus("in", "//"+ifi.Name+" : "+addr, 5*time.Second)
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(addr)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// TTL 0 keeps the datagram on this machine; loopback delivers it here.
	pc := ipv4.NewPacketConn(c)
	_ = pc.SetMulticastInterface(ifi)
	_ = pc.SetMulticastLoopback(true)
	_ = pc.SetMulticastTTL(0)
	if _, err := c.WriteToUDP([]byte("to the group"), &net.UDPAddr{IP: net.ParseIP(group), Port: port}); err != nil {
		t.Fatal(err)
	}
	if p := h.next("sink").Value("payload"); p != "to the group" {
		t.Errorf("multicast: %v", p)
	}
}
