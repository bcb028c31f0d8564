package modbus

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/goburrow/modbus"
)

// request is one Modbus transaction waiting for the client's connection.
type request struct {
	unit     byte
	fc       int
	address  uint16
	quantity uint16
	coils    []bool   // FC 5, 15
	regs     []uint16 // FC 6, 16
	done     chan result
}

type result struct {
	pdu []byte // the response's data bytes as goburrow returns them
	err error
}

// exceptionNames are the standard Modbus exception codes.
var exceptionNames = map[byte]string{
	1: "Illegal function", 2: "Illegal data address", 3: "Illegal data value",
	4: "Slave device failure", 5: "Acknowledge", 6: "Slave device busy",
	8: "Memory parity error", 10: "Gateway path unavailable",
	11: "Gateway target device failed to respond",
}

// ExceptionError is a Modbus exception response; catch nodes see the code
// in msg.error.code and the text in msg.error.message.
type ExceptionError struct {
	Exception byte
	Unit      byte
	FC        int
	Address   uint16
}

func (e *ExceptionError) Error() string {
	name := exceptionNames[e.Exception]
	if name == "" {
		name = "Unknown exception"
	}
	return fmt.Sprintf("Modbus exception %d: %s (unit %d, fc %d, address %d)", e.Exception, name, e.Unit, e.FC, e.Address)
}

// Code is what the engine puts in msg.error.code.
func (e *ExceptionError) Code() string { return strconv.Itoa(int(e.Exception)) }

func (r *request) run(c modbus.Client) ([]byte, error) {
	var b []byte
	var err error
	switch r.fc {
	case 1:
		b, err = c.ReadCoils(r.address, r.quantity)
	case 2:
		b, err = c.ReadDiscreteInputs(r.address, r.quantity)
	case 3:
		b, err = c.ReadHoldingRegisters(r.address, r.quantity)
	case 4:
		b, err = c.ReadInputRegisters(r.address, r.quantity)
	case 5:
		v := uint16(0)
		if len(r.coils) > 0 && r.coils[0] {
			v = 0xFF00
		}
		b, err = c.WriteSingleCoil(r.address, v)
	case 6:
		var v uint16
		if len(r.regs) > 0 {
			v = r.regs[0]
		}
		b, err = c.WriteSingleRegister(r.address, v)
	case 15:
		b, err = c.WriteMultipleCoils(r.address, uint16(len(r.coils)), packBits(r.coils))
	case 16:
		p := make([]byte, 2*len(r.regs))
		for i, v := range r.regs {
			p[2*i], p[2*i+1] = byte(v>>8), byte(v)
		}
		b, err = c.WriteMultipleRegisters(r.address, uint16(len(r.regs)), p)
	default:
		return nil, fmt.Errorf("function code %d not supported", r.fc)
	}
	var me *modbus.ModbusError
	if errors.As(err, &me) {
		return nil, &ExceptionError{Exception: me.ExceptionCode, Unit: r.unit, FC: r.fc, Address: r.address}
	}
	return b, err
}

func packBits(v []bool) []byte {
	b := make([]byte, (len(v)+7)/8)
	for i, on := range v {
		if on {
			b[i/8] |= 1 << (i % 8)
		}
	}
	return b
}

// wrapped is an error with context in front that keeps the exception code
// visible to the engine, which reads Code() from the error it is given.
type wrapped struct {
	prefix string
	err    *ExceptionError
}

func (w *wrapped) Error() string { return w.prefix + ": " + w.err.Error() }
func (w *wrapped) Unwrap() error { return w.err }
func (w *wrapped) Code() string  { return w.err.Code() }

// wrap prefixes err with what the node was doing.
func wrap(err error, format string, args ...any) error {
	prefix := fmt.Sprintf(format, args...)
	var ee *ExceptionError
	if errors.As(err, &ee) {
		return &wrapped{prefix: prefix, err: ee}
	}
	return fmt.Errorf("%s: %w", prefix, err)
}
