// mingo and sift over the same canonical documents and the Mongo filters compiled by filterdsl.
// Input (argv[2]): {"docs": "<path to JSON list>", "repeat": n, "filters": [{"name", "filter"}]}.
// Output (stdout): [{"name", "engine", "median_s", "hits"} | {"name", "engine", "error"}].
import { readFileSync } from "node:fs";
import { Query } from "mingo";
import sift from "sift";

const spec = JSON.parse(readFileSync(process.argv[2], "utf8"));
const docs = JSON.parse(readFileSync(spec.docs, "utf8"));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const engines = {
  mingo: (filter) => { const q = new Query(filter); return (d) => q.test(d); },
  sift: (filter) => sift(filter),
};
const out = [];
for (const { name, filter } of spec.filters) {
  for (const [engine, make] of Object.entries(engines)) {
    try {
      const test = make(filter);
      const times = [];
      let hits = 0;
      for (let r = 0; r < spec.repeat; r++) {
        const t0 = process.hrtime.bigint();
        hits = 0;
        for (const d of docs) if (test(d)) hits++;
        times.push(Number(process.hrtime.bigint() - t0) / 1e9);
      }
      out.push({ name, engine, median_s: median(times), hits });
    } catch (e) {
      out.push({ name, engine, error: String(e && e.message || e) });
    }
  }
}
process.stdout.write(JSON.stringify(out));
