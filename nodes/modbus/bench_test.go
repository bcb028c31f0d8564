//go:build unix

package modbus

import (
	"context"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/sluicehq/sluice/runtime/msg"
	"github.com/sluicehq/sluice/runtime/node"
)

// BenchmarkRegistersPerSecond reads 125 holding registers (the most one
// request may ask for) back to back on one connection to pymodbus.
func BenchmarkRegistersPerSecond(b *testing.B) {
	if err := pythonPeer(); err != nil {
		b.Skip(err)
	}
	port := freePort(b)
	startDevice(b, port, 0)
	cl := benchClient(b, port)
	defer cl.Close(context.Background(), true)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := cl.Do(context.Background(), &request{unit: 1, fc: 3, address: 0, quantity: 125}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*125)/time.Since(start).Seconds(), "registers/s")
}

func benchClient(b *testing.B, port int) *Client {
	raw, _ := msg.UnmarshalString(fmt.Sprintf(`{"id":"mb","type":"modbus-client","tcpHost":"127.0.0.1","tcpPort":%d}`, port))
	n, err := newClient(&node.Config{Raw: raw.(*msg.Object)})
	if err != nil {
		b.Fatal(err)
	}
	cl := n.(*Client)
	if err := cl.Start(nil); err != nil {
		b.Fatal(err)
	}
	return cl
}

// BenchmarkGoburrowDirect is the same read with goburrow alone: the ceiling
// the client's queue and goroutine hand-off are measured against.
func BenchmarkGoburrowDirect(b *testing.B) {
	if err := pythonPeer(); err != nil {
		b.Skip(err)
	}
	port := freePort(b)
	startDevice(b, port, 0)
	l := newTCPLink(hostPort("127.0.0.1", port), time.Second)
	l.setUnit(1)
	if err := l.Connect(); err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := l.client().ReadHoldingRegisters(0, 125); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*125)/time.Since(start).Seconds(), "registers/s")
}

// BenchmarkFlexGetterNode reads 125 registers per message through the
// engine: inject → modbus-flex-getter → sink, 64 messages in flight.
func BenchmarkFlexGetterNode(b *testing.B) {
	if err := pythonPeer(); err != nil {
		b.Skip(err)
	}
	port := freePort(b)
	startDevice(b, port, 0)
	h := run(b, port, "", `{"id":"fg","z":"t1","type":"modbus-flex-getter","server":"mb","wires":[["sink1"],[]]}`)
	defer h.E.Close(context.Background())
	h.waitStatus("fg", "green/dot/connected", 5*time.Second)
	const window = 64
	b.ResetTimer()
	start := time.Now()
	sent, got := 0, 0
	for got < b.N {
		for sent < b.N && sent-got < window {
			h.inject("fg", `{"payload":{"fc":3,"address":0,"quantity":125}}`)
			sent++
		}
		<-h.sink("sink1")
		got++
	}
	b.ReportMetric(float64(b.N*125)/time.Since(start).Seconds(), "registers/s")
}

// BenchmarkMbpollLoop is the yardstick: Debian's mbpoll reading the
// same 125 registers, one process per poll in a loop, as a shell script
// polling a device would.
func BenchmarkMbpollLoop(b *testing.B) {
	if err := pythonPeer(); err != nil {
		b.Skip(err)
	}
	port := freePort(b)
	startDevice(b, port, 0)
	args := []string{"-m", "tcp", "-p", fmt.Sprint(port), "-a", "1", "-t", "4", "-r", "0", "-c", "125", "-0", "-1", "127.0.0.1"}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if out, err := exec.Command("mbpoll", args...).CombinedOutput(); err != nil {
			b.Fatalf("mbpoll: %v\n%s", err, out)
		}
	}
	b.ReportMetric(float64(b.N*125)/time.Since(start).Seconds(), "registers/s")
}
