package main

import (
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/runtime/flowfile"
)

// starterFlow is what a fresh user directory starts with: a simulated
// sensor publishing to the MQTT broker built into Sluice, and a subscriber
// showing what arrives, so a new user sees MQTT messages flowing without
// installing anything.
//
//go:embed starter.json
var starterFlow string

// fresh reports whether dir has neither a settings file nor a flow file.
func fresh(dir string) bool {
	for _, name := range []string{"settings.yaml", "settings.yml", "settings.js", "flows.json"} {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, fs.ErrNotExist) {
			return false
		}
	}
	return true
}

// seedUserDir writes the starter flow and a settings file that turns the
// built-in broker on, on 127.0.0.1:1883 when that port is free and on
// another free loopback port when it is not (a broker already running
// there must not be mistaken for ours).
func seedUserDir(dir string) (port int, err error) {
	port = 1883
	if l, err := net.Listen("tcp", "127.0.0.1:1883"); err == nil {
		l.Close()
	} else {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	flow, err := flowfile.Format([]byte(strings.Replace(starterFlow, "STARTER_PORT", strconv.Itoa(port), 1)))
	if err != nil {
		return 0, fmt.Errorf("starter flow: %w", err)
	}
	settings := fmt.Sprintf("# Written by sluice on first start. The starter flow uses the MQTT broker\n# built into Sluice; remove mqttListen to turn it off.\nmqttListen: [\"127.0.0.1:%d\"]\n", port)
	if err := os.WriteFile(filepath.Join(dir, "settings.yaml"), []byte(settings), 0o600); err != nil {
		return 0, err
	}
	if err := writeAtomic(filepath.Join(dir, "flows.json"), flow); err != nil {
		return 0, err
	}
	return port, nil
}
