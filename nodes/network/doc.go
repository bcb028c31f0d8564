// Package network holds the network node types: websocket, and later HTTP,
// TCP, UDP and MQTT.
package network
