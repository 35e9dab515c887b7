// Validates the theme app extension without the Shopify CLI: the toml says
// type = "theme", every block has one JSON {% schema %} with a body/head
// target and unique setting ids, every t: key exists in every locale, the
// assets the blocks load exist.
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";

const dir = new URL("../extensions/parrain-embed/", import.meta.url).pathname;
const problems = [];
const fail = (m) => problems.push(m);

const toml = readFileSync(join(dir, "shopify.extension.toml"), "utf8");
if (!/^type\s*=\s*"theme"\s*$/m.test(toml)) fail("shopify.extension.toml: type must be \"theme\"");

const locales = {};
for (const f of readdirSync(join(dir, "locales"))) {
  try {
    locales[f] = JSON.parse(readFileSync(join(dir, "locales", f), "utf8"));
  } catch (e) {
    fail(`locales/${f}: ${e.message}`);
  }
}
if (!Object.keys(locales).some((f) => f.endsWith(".default.schema.json"))) fail("locales: no *.default.schema.json");
const lookup = (obj, key) => key.split(".").reduce((o, k) => (o == null ? undefined : o[k]), obj);

for (const f of readdirSync(join(dir, "blocks")).filter((f) => f.endsWith(".liquid"))) {
  const src = readFileSync(join(dir, "blocks", f), "utf8");
  const schemas = [...src.matchAll(/\{%-?\s*schema\s*-?%\}([\s\S]*?)\{%-?\s*endschema\s*-?%\}/g)];
  if (schemas.length !== 1) {
    fail(`blocks/${f}: ${schemas.length} {% schema %} blocks, want 1`);
    continue;
  }
  let schema;
  try {
    schema = JSON.parse(schemas[0][1]);
  } catch (e) {
    fail(`blocks/${f}: schema is not JSON: ${e.message}`);
    continue;
  }
  if (!["body", "head"].includes(schema.target)) fail(`blocks/${f}: an app embed needs "target": "body" or "head"`);
  const ids = (schema.settings || []).map((s) => s.id);
  if (new Set(ids).size !== ids.length) fail(`blocks/${f}: duplicate setting ids ${ids}`);
  for (const id of ids) {
    if (!new RegExp(`block\\.settings\\.${id}\\b`).test(src)) fail(`blocks/${f}: setting ${id} is never used`);
  }
  for (const m of JSON.stringify(schema).matchAll(/"t:([^"]+)"/g)) {
    for (const [lf, l] of Object.entries(locales)) {
      if (typeof lookup(l, m[1]) !== "string") fail(`locales/${lf}: missing ${m[1]}`);
    }
  }
  for (const m of src.matchAll(/'([^']+)'\s*\|\s*asset_url/g)) {
    if (!existsSync(join(dir, "assets", m[1]))) fail(`blocks/${f}: asset ${m[1]} missing (go generate ./widget)`);
  }
}

if (problems.length) {
  console.error("theme app extension:\n  " + problems.join("\n  "));
  process.exit(1);
}
