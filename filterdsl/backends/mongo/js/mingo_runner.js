// Runs filterdsl Mongo specs on mingo (a JavaScript MongoDB query engine), for differential tests.
// stdin: {"collections": {name: [docs]}, "specs": [spec, ...]}; stdout: [[ids] | {"error": msg}, ...]
const mingo = require("mingo");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (c) => (input += c));
process.stdin.on("end", () => {
  const { collections, specs } = JSON.parse(input);
  const resolver = (name) => collections[name] || [];
  const out = specs.map((spec) => {
    try {
      const docs = resolver(spec.collection);
      let rows;
      if (spec.pipeline) {
        rows = mingo.aggregate(docs, spec.pipeline, { collectionResolver: resolver });
      } else {
        let cur = mingo.find(docs, spec.filter, spec.projection || undefined);
        const sort = {};
        for (const [k, d] of spec.sort) sort[k] = d;
        cur = cur.sort(sort).skip(spec.skip || 0);
        if (spec.limit) cur = cur.limit(spec.limit);
        rows = cur.all();
      }
      return rows.map((r) => r.id);
    } catch (e) {
      return { error: String((e && e.message) || e) };
    }
  });
  process.stdout.write(JSON.stringify(out));
});
