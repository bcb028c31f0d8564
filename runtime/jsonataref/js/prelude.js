// Sluice's glue around the jsonata library in goja; runs before jsonata.js.
(function (g) {
    "use strict";
    var blocked = {
        "__proto__": true, "constructor": true, "prototype": true,
        "__lookupGetter__": true, "__lookupSetter__": true,
        "__defineGetter__": true, "__defineSetter__": true
    };
    // Used by the patched lookup in jsonata.js (see patchLookup).
    g.__sluiceBlockedKey = function (key) {
        return Object.prototype.hasOwnProperty.call(blocked, key);
    };

    // What JSONata can observe of a Node.js Buffer: indices, length, keys,
    // JSON form and toString(). []byte values arrive as instances of it.
    class Buffer extends Uint8Array {
        toJSON() {
            return { type: "Buffer", data: Array.prototype.slice.call(this) };
        }
        toString(encoding, start, end) {
            return __sluiceBufferToString(this, encoding, start, end);
        }
    }
    // Buffer.from as the library's $base64encode/$base64decode call it
    // (with `new`, hence a plain function).
    Buffer.from = function from(value, encoding) {
        if (typeof value === "string") {
            return new Buffer(__sluiceDecodeString(value, encoding));
        }
        var b = new Buffer(value.length);
        for (var i = 0; i < value.length; i++) {
            b[i] = value[i];
        }
        return b;
    };
    g.__sluiceBuffer = Buffer;
    g.Buffer = Buffer;
    // The library reaches Buffer through Node's `global`.
    g.global = g;

    // goja encodes a lone surrogate as U+FFFD where JavaScript throws a
    // URIError, which $encodeUrl reports as D3140.
    function hasLoneSurrogate(str) {
        for (var i = 0; i < str.length; i++) {
            var c = str.charCodeAt(i);
            if (c >= 0xD800 && c <= 0xDBFF) {
                var d = i + 1 < str.length ? str.charCodeAt(i + 1) : 0;
                if (d < 0xDC00 || d > 0xDFFF) {
                    return true;
                }
                i++;
            } else if (c >= 0xDC00 && c <= 0xDFFF) {
                return true;
            }
        }
        return false;
    }
    ["encodeURI", "encodeURIComponent"].forEach(function (name) {
        var orig = g[name];
        g[name] = function (str) {
            if (hasLoneSurrogate(String(str))) {
                throw new URIError("URI malformed");
            }
            return orig(str);
        };
    });

    // Turns impl into a JSONata function object with a signature, the way
    // registerFunction does; the library does not export its signature parser.
    g.__sluiceDefine = function (impl, signature) {
        var e = g.jsonata("$f");
        e.registerFunction("f", impl, signature);
        return e.evaluate(undefined);
    };

    // Calls expr.evaluate; kept in JS so Go makes one call per evaluation.
    g.__sluiceEvaluate = function (expr, input, bindings) {
        return expr.evaluate(input, bindings);
    };
})(this);
