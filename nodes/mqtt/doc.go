// Package mqtt holds the MQTT nodes: the mqtt-broker config node and the
// mqtt in and mqtt out nodes, as Node-RED 5 has them. The client session is
// our own (session.go: one goroutine per connection where paho's clients
// used several per message) over the packet codecs of
// github.com/eclipse/paho.mqtt.golang for MQTT 3.1 and 3.1.1 (conn_v3.go)
// and github.com/eclipse/paho.golang for MQTT 5 (conn_v5.go); the broker
// node's protocolVersion picks.
//
// Delivery is at least once from an mqtt in node at QoS 1 or 2 to whatever
// the flow does with the message: the broker gets its acknowledgement only
// when the message and every copy it fanned out into are done, and an mqtt
// out node finishes a message only when the broker has acknowledged it.
package mqtt
