// Package network holds the network node types: http in, http response,
// http request and http proxy; websocket; tcp in, tcp out and tcp request;
// udp in and udp out; tls-config. Their behaviour follows Node-RED 5; where
// the HTTP nodes need Express's routing, body parsing and response rules,
// those are reproduced here (see http_exchange.go and http_response.go).
package network
