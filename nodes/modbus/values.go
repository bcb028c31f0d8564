package modbus

import (
	"fmt"
	"math"
	"strings"

	"github.com/sluicehq/sluice/runtime/msg"
)

// writeValues fills r's data from a written value the way the package
// takes it: one 1/0/true/false for fc 5, one number for fc 6, arrays for
// fc 15 and 16 (a "1,2,3" string too, as HTTP forms send).
func writeValues(r *request, v any) error {
	if s, ok := v.(string); ok {
		switch {
		case s == "true" || s == "false":
			v = s == "true"
		case strings.Contains(s, ","):
			parsed, err := msg.Unmarshal([]byte("[" + s + "]"))
			if err != nil {
				return fmt.Errorf("value %q is not a list of values", s)
			}
			v = parsed
		}
	}
	list, isList := v.([]any)
	switch r.fc {
	case 5, 6:
		if isList {
			if len(list) == 0 {
				return fmt.Errorf("fc %d needs one value, got an empty array", r.fc)
			}
			v = list[0]
		}
		list = []any{v}
	case 15, 16:
		if !isList {
			list = []any{v}
		}
		if len(list) == 0 || len(list) > 1968 {
			return fmt.Errorf("fc %d needs 1..1968 values, got %d", r.fc, len(list))
		}
	}
	for i, e := range list {
		if r.fc == 5 || r.fc == 15 {
			b, ok := coil(e)
			if !ok {
				return fmt.Errorf("value %d (%s) is not a coil state: use true/false or 1/0", i, msg.Marshal(e))
			}
			r.coils = append(r.coils, b)
			continue
		}
		f, ok := num(e)
		if !ok || f != math.Trunc(f) || f < -32768 || f > 65535 {
			return fmt.Errorf("value %d (%s) is not a register value: use an integer -32768..65535", i, msg.Marshal(e))
		}
		r.regs = append(r.regs, uint16(int32(f)))
	}
	if r.quantity == 0 {
		r.quantity = uint16(len(list))
	}
	return nil
}

func coil(v any) (bool, bool) {
	switch t := v.(type) {
	case bool:
		return t, true
	case float64:
		return t != 0, t == 0 || t == 1
	case string:
		switch t {
		case "true", "1":
			return true, true
		case "false", "0":
			return false, true
		}
	}
	return false, false
}
