// Package mqttbroker runs an MQTT 3.1, 3.1.1 and 5 broker inside the Sluice
// process (github.com/mochi-mqtt/server), for a gateway that needs one and
// has nothing else to run it: `sluice run --mqtt-listen 127.0.0.1:1883` or
// the mqttListen setting. Without Auth it accepts every client: put it on a
// loopback or otherwise trusted address; with Auth (the editor's adminAuth
// users) clients log in with those users' passwords.
package mqttbroker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Broker is a running embedded broker.
type Broker struct {
	srv   *mochi.Server
	addrs []string
}

// Start listens on every address ("host:port" or "mqtt://host:port" for
// MQTT over TCP, "ws://host:port" for MQTT over websockets) and serves
// until Close. An address that cannot be listened on is an error naming it,
// and nothing is left running.
// auth, when not nil, is who may connect, publish and subscribe.
func Start(addrs []string, log *slog.Logger, auth *Auth) (*Broker, error) {
	if len(addrs) == 0 {
		return nil, errors.New("mqtt broker: no address to listen on")
	}
	if log == nil {
		log = slog.Default()
	}
	srv := mochi.New(&mochi.Options{
		// Connects and disconnects are info in mochi: too much for a log
		// that is about the flows.
		Logger: slog.New(quiet{log.With("component", "mqtt broker").Handler()}),
	})
	var hook mochi.Hook = new(allowAll)
	if auth != nil {
		hook = newAuthHook(auth)
	}
	if err := srv.AddHook(hook, nil); err != nil {
		return nil, fmt.Errorf("mqtt broker: %w", err)
	}
	b := &Broker{srv: srv}
	for i, a := range addrs {
		l, err := listener(fmt.Sprintf("l%d", i), a)
		if err == nil {
			err = srv.AddListener(l)
		}
		if err != nil {
			_ = srv.Close()
			return nil, fmt.Errorf("mqtt broker: cannot listen on %s: %w", a, err)
		}
		b.addrs = append(b.addrs, l.Protocol()+"://"+l.Address())
	}
	if err := srv.Serve(); err != nil {
		_ = srv.Close()
		return nil, fmt.Errorf("mqtt broker: %w", err)
	}
	// mochi's websocket listener binds on its own goroutine: wait for it,
	// so that the broker takes clients once Start returns.
	for _, a := range b.addrs {
		if !strings.HasPrefix(a, "ws://") {
			continue
		}
		hostPort := strings.TrimPrefix(a, "ws://")
		deadline := time.Now().Add(5 * time.Second)
		for {
			c, err := net.DialTimeout("tcp", hostPort, 100*time.Millisecond)
			if err == nil {
				_ = c.Close()
				break
			}
			if time.Now().After(deadline) {
				_ = srv.Close()
				return nil, fmt.Errorf("mqtt broker: websocket listener on %s did not start: %w", hostPort, err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return b, nil
}

func listener(id, addr string) (listeners.Listener, error) {
	scheme, hostPort, found := strings.Cut(addr, "://")
	if !found {
		scheme, hostPort = "mqtt", addr
	}
	hostPort = strings.TrimSuffix(hostPort, "/")
	if _, _, err := net.SplitHostPort(hostPort); err != nil {
		return nil, err
	}
	switch strings.ToLower(scheme) {
	case "mqtt", "tcp":
		return listeners.NewTCP(listeners.Config{Type: listeners.TypeTCP, ID: id, Address: hostPort}), nil
	case "ws":
		// mochi's websocket listener binds in Serve and only logs a
		// failure there; try the address first so that it is an error.
		l, err := net.Listen("tcp", hostPort)
		if err != nil {
			return nil, err
		}
		_ = l.Close()
		return listeners.NewWebsocket(listeners.Config{Type: listeners.TypeWS, ID: id, Address: hostPort}), nil
	}
	return nil, fmt.Errorf("unsupported scheme %q (mqtt:// or ws://)", scheme)
}

// Addrs are the addresses listened on, as URLs ("tcp://127.0.0.1:1883").
func (b *Broker) Addrs() []string { return b.addrs }

// closeWait bounds Close. mochi-mqtt v2.7.9 (the latest release) can
// deadlock in Close when a client connects or disconnects at that moment
// (its Clients.GetByListener takes a read lock twice; mochi-mqtt issue
// #488, fixes not released): the process must still be able to stop.
var closeWait = 5 * time.Second

// Close disconnects every client and stops listening. It gives up after
// closeWait with an error rather than hang (see closeWait).
func (b *Broker) Close() error {
	done := make(chan error, 1)
	go func() { done <- b.srv.Close() }()
	t := time.NewTimer(closeWait)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return fmt.Errorf("mqtt broker: close did not finish in %s (a known mochi-mqtt deadlock, issue #488); its port may stay open until the process exits", closeWait)
	}
}

// quiet passes on warnings and errors only.
type quiet struct{ slog.Handler }

func (q quiet) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && q.Handler.Enabled(ctx, l)
}

func (q quiet) WithAttrs(a []slog.Attr) slog.Handler { return quiet{q.Handler.WithAttrs(a)} }
func (q quiet) WithGroup(n string) slog.Handler      { return quiet{q.Handler.WithGroup(n)} }

// allowAll lets every client connect, publish and subscribe (mochi's own
// allow-all hook lives in a package that needs a YAML library).
type allowAll struct{ mochi.HookBase }

func (*allowAll) ID() string { return "allow-all" }

func (*allowAll) Provides(b byte) bool {
	return b == mochi.OnConnectAuthenticate || b == mochi.OnACLCheck
}

func (*allowAll) OnConnectAuthenticate(*mochi.Client, packets.Packet) bool { return true }

func (*allowAll) OnACLCheck(*mochi.Client, string, bool) bool { return true }
