// Package modbus implements the node types of node-red-contrib-modbus 5.x
// (modbus-client, modbus-read, modbus-getter, modbus-flex-getter,
// modbus-write, modbus-flex-write) on github.com/goburrow/modbus, with the
// same type names, properties and message shapes, so flows built with that
// package run unchanged. modbus-read also decodes registers to numbers or
// text and scales them (Sluice extensions, off by default).
package modbus
