// Package mqtt holds the MQTT nodes: the mqtt-broker config node and the
// mqtt in and mqtt out nodes, as Node-RED 5 has them. MQTT 3.1 and 3.1.1 use
// github.com/eclipse/paho.mqtt.golang's packets with a session of our own
// (conn_v3.go: one goroutine per connection instead of paho's client's
// eight per message), MQTT 5 github.com/eclipse/paho.golang; the broker
// node's protocolVersion picks.
//
// Delivery is at least once from an mqtt in node at QoS 1 or 2 to whatever
// the flow does with the message: the broker gets its acknowledgement only
// when the message and every copy it fanned out into are done, and an mqtt
// out node finishes a message only when the broker has acknowledged it.
package mqtt
