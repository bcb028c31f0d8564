//go:build unix

package modbus

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	_ "github.com/sluicehq/sluice/nodes/function" // change
	_ "github.com/sluicehq/sluice/nodes/mqtt"
	"github.com/sluicehq/sluice/runtime/engine"
	"github.com/sluicehq/sluice/runtime/mqttbroker"
	"github.com/sluicehq/sluice/runtime/msg"
)

// flows/modbus-to-mqtt.json against the pymodbus device and an in-process
// MQTT broker: 100 registers every 100 ms arrive as 50 floats.
func TestExampleFlow(t *testing.T) {
	needPeer(t)
	mbPort, mqPort := freePort(t), freePort(t)
	startDevice(t, mbPort, 0)
	b, err := mqttbroker.Start([]string{fmt.Sprintf("127.0.0.1:%d", mqPort)}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	raw, err := os.ReadFile("../../flows/modbus-to-mqtt.json")
	if err != nil {
		t.Fatal(err)
	}
	flow := strings.Replace(string(raw), `"tcpPort": "502"`, fmt.Sprintf(`"tcpPort": "%d"`, mbPort), 1)
	flow = strings.Replace(flow, `"port": "1883"`, fmt.Sprintf(`"port": "%d"`, mqPort), 1)
	flow = strings.Replace(flow, `"broker": "localhost"`, `"broker": "127.0.0.1"`, 1)
	if flow == string(raw) || strings.Count(flow, fmt.Sprint(mbPort)) != 1 || strings.Count(flow, fmt.Sprint(mqPort)) != 1 {
		t.Fatal("the example flow no longer has the ports this test rewrites")
	}

	got := make(chan []byte, 100)
	opts := paho.NewClientOptions().AddBroker(fmt.Sprintf("tcp://127.0.0.1:%d", mqPort)).SetClientID("modbus-example-test")
	sub := paho.NewClient(opts)
	if tok := sub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscriber connect: %v", tok.Error())
	}
	defer sub.Disconnect(100)
	tok := sub.Subscribe("plant-1/modbus/holding", 0, func(_ paho.Client, m paho.Message) {
		select {
		case got <- m.Payload():
		default:
		}
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}

	e, err := engine.New(engine.Options{UserDir: t.TempDir(), CloseTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	if err := e.Deploy([]byte(flow)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	n := 0
	for n < 5 {
		select {
		case p := <-got:
			n++
			v, err := msg.Unmarshal(p)
			if err != nil {
				t.Fatalf("payload %q: %v", p, err)
			}
			o := v.(*msg.Object)
			vals, _ := o.Value("values").([]any)
			regs, _ := o.Value("registers").([]any)
			if len(vals) != 50 || len(regs) != 100 || vals[5] != 12.5 || regs[0] != 100.0 {
				t.Fatalf("published %s", p)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d publishes in 5 s", n)
		}
	}
	// Five polls 100 ms apart; far slower means polls are being lost.
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("5 publishes took %v", d)
	}
}
