package function

import (
	"encoding/base64"
	"strings"
	"unicode/utf16"

	"github.com/dop251/goja"
)

// goja_nodejs's Buffer has Node's constructor, from/alloc/concat, toString,
// equals, write and the read/write number methods. What flows also use is
// added here: Node's JSON form ({type:"Buffer", data}), isBuffer,
// byteLength, compare, slice/subarray returning Buffers over the same
// bytes, indexOf/includes with strings, copy, fill with strings, and the
// latin1/binary, ascii, utf16le/ucs2 and base64url encodings.

func (n *fnNode) setBufferExtras() {
	vm := n.vm
	encode := func(c goja.FunctionCall) goja.Value {
		s := c.Argument(0).String()
		var b []byte
		switch c.Argument(1).String() {
		case "latin1":
			b = make([]byte, 0, len(s))
			for _, u := range utf16.Encode([]rune(s)) {
				b = append(b, byte(u))
			}
		case "ascii":
			b = make([]byte, 0, len(s))
			for _, u := range utf16.Encode([]rune(s)) {
				b = append(b, byte(u)&0x7f|byte(u)&0x80)
			}
		case "utf16le":
			for _, u := range utf16.Encode([]rune(s)) {
				b = append(b, byte(u), byte(u>>8))
			}
		case "base64url":
			b, _ = base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
		}
		return n.br.buf.WrapBytes(b)
	}
	decode := func(c goja.FunctionCall) goja.Value {
		b, _ := c.Argument(0).Export().([]byte)
		var sb strings.Builder
		switch c.Argument(1).String() {
		case "latin1":
			for _, x := range b {
				sb.WriteRune(rune(x))
			}
		case "ascii":
			for _, x := range b {
				sb.WriteRune(rune(x & 0x7f))
			}
		case "utf16le":
			u := make([]uint16, len(b)/2)
			for i := range u {
				u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
			}
			sb.WriteString(string(utf16.Decode(u)))
		case "base64url":
			sb.WriteString(base64.RawURLEncoding.EncodeToString(b))
		}
		return vm.ToValue(sb.String())
	}
	f, err := vm.RunProgram(bufferProg())
	if err != nil {
		panic(err)
	}
	install, _ := goja.AssertFunction(f)
	if _, err := install(goja.Undefined(), vm.Get("Buffer"), vm.ToValue(encode), vm.ToValue(decode)); err != nil {
		panic(err)
	}
}

const bufferJS = `(function(B, encode, decode) {
	const proto = B.prototype;
	const U8 = Uint8Array.prototype;
	const extra = { latin1: "latin1", binary: "latin1", ascii: "ascii", utf16le: "utf16le", "utf-16le": "utf16le", ucs2: "utf16le", "ucs-2": "utf16le", base64url: "base64url" };
	const native = { utf8: "utf8", "utf-8": "utf8", hex: "hex", base64: "base64" };
	function enc(e) {
		if (e === undefined || e === null) { return "utf8"; }
		const l = String(e).toLowerCase();
		if (native[l] || extra[l]) { return native[l] || extra[l]; }
		const err = new TypeError("Unknown encoding: " + e);
		err.code = "ERR_UNKNOWN_ENCODING";
		throw err;
	}
	function wrap(u) { Object.setPrototypeOf(u, proto); return u; }
	const from = B.from;
	B.from = function(v, e, len) {
		if (typeof v === "string") {
			const n = enc(e);
			return extra[n] ? encode(v, n) : from.call(B, v, n);
		}
		if (v instanceof ArrayBuffer) {
			return wrap(new Uint8Array(v, e === undefined ? 0 : e, len === undefined ? v.byteLength - (e || 0) : len));
		}
		if (v && v.type === "Buffer" && Array.isArray(v.data)) { return from.call(B, v.data); }
		return from.call(B, v);
	};
	const alloc = B.alloc;
	B.alloc = function(size, fill, e) {
		const b = alloc.call(B, size);
		if (fill !== undefined && fill !== 0) { b.fill(fill, 0, b.length, e); }
		return b;
	};
	B.allocUnsafe = B.allocUnsafeSlow = function(size) { return alloc.call(B, size); };
	B.isBuffer = function(o) { return o instanceof B; };
	B.isEncoding = function(e) { try { enc(e); return typeof e === "string"; } catch (err) { return false; } };
	B.byteLength = function(s, e) {
		if (typeof s === "string") { return B.from(s, e).length; }
		return s.byteLength;
	};
	B.compare = function(a, b) { return a.compare(b); };
	const toString = proto.toString;
	proto.toString = function(e, start, end) {
		const n = enc(e);
		if (extra[n]) {
			return decode(U8.subarray.call(this, start === undefined ? 0 : start, end === undefined ? this.length : end), n);
		}
		return toString.call(this, n, start, end);
	};
	proto.toLocaleString = proto.toString;
	proto.toJSON = function() { return { type: "Buffer", data: Array.from(this) }; };
	proto.slice = proto.subarray = function(start, end) { return wrap(U8.subarray.call(this, start, end)); };
	function needle(v, e) {
		if (typeof v === "string") { return B.from(v, e); }
		if (typeof v === "number") { return null; }
		return v;
	}
	proto.indexOf = function(v, from, e) {
		if (typeof from === "string") { e = from; from = 0; }
		const nd = needle(v, e);
		if (nd === null) { return U8.indexOf.call(this, v & 255, from); }
		let i = from === undefined ? 0 : (from < 0 ? Math.max(this.length + from, 0) : from);
		outer: for (; i + nd.length <= this.length; i++) {
			for (let j = 0; j < nd.length; j++) { if (this[i + j] !== nd[j]) { continue outer; } }
			return i;
		}
		return -1;
	};
	proto.lastIndexOf = function(v, from, e) {
		if (typeof from === "string") { e = from; from = undefined; }
		const nd = needle(v, e);
		if (nd === null) { return U8.lastIndexOf.call(this, v & 255, from === undefined ? this.length - 1 : from); }
		let i = from === undefined ? this.length - nd.length : Math.min(from < 0 ? this.length + from : from, this.length - nd.length);
		outer: for (; i >= 0; i--) {
			for (let j = 0; j < nd.length; j++) { if (this[i + j] !== nd[j]) { continue outer; } }
			return i;
		}
		return -1;
	};
	proto.includes = function(v, from, e) { return this.indexOf(v, from, e) !== -1; };
	proto.copy = function(target, ts, ss, se) {
		ts = ts || 0; ss = ss || 0; se = se === undefined ? this.length : se;
		const src = U8.subarray.call(this, ss, Math.min(se, ss + target.length - ts));
		U8.set.call(target, src, ts);
		return src.length;
	};
	proto.fill = function(v, start, end, e) {
		if (typeof start === "string") { e = start; start = 0; end = this.length; }
		if (typeof end === "string") { e = end; end = this.length; }
		start = start === undefined ? 0 : start; end = end === undefined ? this.length : end;
		if (typeof v === "string") {
			const src = B.from(v, e);
			if (src.length === 0) { return U8.fill.call(this, 0, start, end); }
			for (let i = start, j = 0; i < end; i++, j = (j + 1) % src.length) { this[i] = src[j]; }
			return this;
		}
		if (v instanceof Uint8Array) {
			for (let i = start, j = 0; i < end; i++, j = (j + 1) % v.length) { this[i] = v[j]; }
			return this;
		}
		U8.fill.call(this, v & 255, start, end);
		return this;
	};
	proto.compare = function(t) {
		const n = Math.min(this.length, t.length);
		for (let i = 0; i < n; i++) {
			if (this[i] !== t[i]) { return this[i] < t[i] ? -1 : 1; }
		}
		return this.length === t.length ? 0 : (this.length < t.length ? -1 : 1);
	};
	function swap(size) {
		return function() {
			if (this.length % size !== 0) { throw new RangeError("Buffer size must be a multiple of " + (size * 8) + "-bits"); }
			for (let i = 0; i < this.length; i += size) {
				for (let a = i, b = i + size - 1; a < b; a++, b--) { const t = this[a]; this[a] = this[b]; this[b] = t; }
			}
			return this;
		};
	}
	proto.swap16 = swap(2); proto.swap32 = swap(4); proto.swap64 = swap(8);
	const write = proto.write;
	proto.write = function(s, offset, length, e) {
		if (typeof offset === "string") { e = offset; offset = 0; length = undefined; }
		if (typeof length === "string") { e = length; length = undefined; }
		const n = enc(e);
		if (!extra[n]) { return write.call(this, s, offset, length, n); }
		const src = encode(s, n);
		offset = offset || 0;
		const len = Math.min(src.length, length === undefined ? this.length - offset : length, this.length - offset);
		U8.set.call(this, U8.subarray.call(src, 0, len), offset);
		return len;
	};
})`
