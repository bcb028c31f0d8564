package mqtt

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"
)

func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// Packets written from several goroutines, whole or in pieces under the
// lock, arrive whole, each writer's in its order, and Close sends what is
// still queued.
func TestBatchConnKeepsPacketsWhole(t *testing.T) {
	t.Run("whole", func(t *testing.T) { testBatchConnWhole(t, false) })
	t.Run("locked", func(t *testing.T) { testBatchConnWhole(t, true) })
}

func testBatchConnWhole(t *testing.T, locked bool) {
	c, s := tcpPair(t)
	bc := newBatchConn(c)
	const writers, each = 4, 2000
	var want [writers]bytes.Buffer
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				p := []byte("<" + strconv.Itoa(w) + ":" + strconv.Itoa(i) + ">")
				want[w].Write(p)
				if !locked {
					// Whole, as paho.mqtt.golang writes.
					if _, err := bc.Write(p); err != nil {
						t.Error(err)
						return
					}
					continue
				}
				// Holding the lock, some in pieces, as paho.golang writes.
				pieces := [][]byte{p}
				if i%2 == 1 {
					pieces = [][]byte{p[:1], p[1 : len(p)-1], p[len(p)-1:]}
				}
				bc.Lock()
				for _, piece := range pieces {
					if _, err := bc.Write(piece); err != nil {
						t.Error(err)
					}
				}
				bc.Unlock()
			}
		}()
	}
	var got bytes.Buffer
	read := make(chan struct{})
	go func() {
		_, _ = io.Copy(&got, s)
		close(read)
	}()
	wg.Wait()
	if err := bc.Close(); err != nil {
		t.Fatal(err)
	}
	<-read
	var per [writers]bytes.Buffer
	for _, pkt := range bytes.SplitAfter(got.Bytes(), []byte(">")) {
		if len(pkt) == 0 {
			continue
		}
		w, err := strconv.Atoi(string(pkt[1:bytes.IndexByte(pkt, ':')]))
		if pkt[0] != '<' || err != nil || w >= writers {
			t.Fatalf("torn packet %q", pkt)
		}
		per[w].Write(pkt)
	}
	for w := range per {
		if per[w].String() != want[w].String() {
			t.Fatalf("writer %d: packets lost or out of order", w)
		}
	}
	if _, err := bc.Write([]byte("late")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
}

// A connection that fails makes later writes fail and closes the socket,
// so the reader sees the end.
func TestBatchConnReportsWriteErrors(t *testing.T) {
	c, s := tcpPair(t)
	bc := newBatchConn(c)
	_ = c.(*net.TCPConn).CloseWrite() // writes on it now fail
	deadline := time.Now().Add(5 * time.Second)
	var err error
	for err == nil && time.Now().Before(deadline) {
		_, err = bc.Write([]byte("x"))
		time.Sleep(time.Millisecond)
	}
	if err == nil {
		t.Fatal("writes never failed")
	}
	_ = s.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, rerr := io.ReadAll(s); rerr != nil {
		t.Fatalf("the peer did not see the connection end: %v", rerr)
	}
	start := time.Now()
	_ = bc.Close()
	if time.Since(start) > time.Second {
		t.Fatal("Close waited on a failed connection")
	}
}

// After a batch too big to keep (over 4×batchMax), the buffer being filled
// is not also handed out as the next spare: the bytes that arrive are the
// bytes written, in order.
func TestBatchConnAfterHugeBatch(t *testing.T) {
	c, s := tcpPair(t)
	bc := newBatchConn(slowConn{c})
	var want bytes.Buffer
	var got bytes.Buffer
	read := make(chan struct{})
	go func() {
		_, _ = io.Copy(&got, s)
		close(read)
	}()
	// A large batch first, so that its roomy buffer becomes the spare,
	// then one huge packet, then a stream of small ones that fit in it.
	first := bytes.Repeat([]byte("F"), batchMax/2)
	want.Write(first)
	if _, err := bc.Write(first); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // written: its buffer is the spare now
	huge := bytes.Repeat([]byte("H"), 5*batchMax)
	want.Write(huge)
	if _, err := bc.Write(huge); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20000; i++ {
		p := []byte("<" + strconv.Itoa(i) + ">")
		want.Write(p)
		if _, err := bc.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := bc.Close(); err != nil {
		t.Fatal(err)
	}
	<-read
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		i := 0
		for i < got.Len() && i < want.Len() && got.Bytes()[i] == want.Bytes()[i] {
			i++
		}
		t.Fatalf("stream differs at byte %d of %d (got %d bytes)", i, want.Len(), got.Len())
	}
}

// slowConn writes in small pieces with pauses, so that a buffer being
// written is still being read when new packets arrive.
type slowConn struct{ net.Conn }

func (c slowConn) Write(p []byte) (int, error) {
	for off := 0; off < len(p); off += 1024 {
		end := min(off+1024, len(p))
		if _, err := c.Conn.Write(p[off:end]); err != nil {
			return off, err
		}
		time.Sleep(20 * time.Microsecond)
	}
	return len(p), nil
}
