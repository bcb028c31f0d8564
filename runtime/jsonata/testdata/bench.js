// Times the expressions of bench.json with the jsonata npm package, for
// comparison with BenchmarkExpressions:
//   node bench.js /path/to/node_modules/jsonata
const path = require('path');
const fs = require('fs');
const jsonata = require(process.argv[2] || 'jsonata');
const spec = JSON.parse(fs.readFileSync(path.join(__dirname, 'bench.json'), 'utf8'));

async function time(expr, input, iterations) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) {
        await expr.evaluate(input);
    }
    return Number(process.hrtime.bigint() - start) / iterations;
}

(async () => {
    for (const c of spec.cases) {
        const expr = jsonata(c.expr);
        await time(expr, spec.input, 20000); // warm up the JIT
        const ns = await time(expr, spec.input, 100000);
        console.log(`${c.name}\t${ns.toFixed(0)} ns/op`);
    }
})();
