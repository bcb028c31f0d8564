// Evaluates one JSONata expression with the jsonata npm package, for the
// differential tests when the reference in goja and this package disagree:
//   node eval.js <jsonata module path>   (stdin: {"expr": "...", "input": ...})
// It prints {"result": ...}, {"undefined": true} or {"error": {...}}.
const jsonata = require(process.argv[2]);
let data = '';
process.stdin.on('data', (c) => { data += c; });
process.stdin.on('end', async () => {
    const req = JSON.parse(data);
    const input = 'input' in req ? req.input : undefined;
    try {
        const res = await jsonata(req.expr).evaluate(input);
        if (res === undefined) {
            console.log(JSON.stringify({ undefined: true }));
        } else {
            console.log(JSON.stringify({ result: res }));
        }
    } catch (err) {
        console.log(JSON.stringify({ error: { code: err.code, message: err.message, position: err.position, token: err.token } }));
    }
});
