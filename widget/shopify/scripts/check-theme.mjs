#!/usr/bin/env node
// Validates the theme app extension without the Shopify CLI (no
// dependencies):
//   - shopify.extension.toml says type = "theme" and has a name;
//   - only the files Shopify CLI accepts (it refuses to deploy others):
//     assets/*.{js,css,json,jpg,jpeg,png,svg,wasm}, blocks/*.liquid,
//     snippets/*.liquid, locales/*.json; size limits;
//   - every blocks/*.liquid has exactly one {% schema %}…{% endschema %}
//     whose body is JSON, with "target" "body" or "head", settings with
//     unique ids (selects: default among the options), each one used;
//   - Liquid block tags balanced ({% if %}…{% endif %} and the like);
//   - every 'x' | asset_url exists in assets/; no customer.* in the markup;
//   - locales/*.json parse, and every "t:" key of a schema is in every
//     locales/*.schema.json.
// Usage: node scripts/check-theme.mjs [extension-dir]
// (default: extensions/parrain-embed). Exits 1 listing every problem.
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { basename, extname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const dir = resolve(process.argv[2] ?? join(here, "../extensions/parrain-embed"));
const name = relative(process.cwd(), dir) || ".";
const problems = [];
const fail = (where, msg) => problems.push(`${where}: ${msg}`);

// Shopify CLI's rules (packages/app/src/cli/models/extensions/specifications/theme.ts).
const BUCKETS = {
  assets: [".js", ".css", ".json", ".jpg", ".jpeg", ".png", ".svg", ".wasm"],
  blocks: [".liquid"],
  snippets: [".liquid"],
  locales: [".json"],
};
const LIQUID_LIMIT = 100 * 1024; // older CLIs: 100 kB; current: 500 kB
const BUNDLE_LIMIT = 10 * 1024 * 1024;
// Liquid tags that need an end tag.
const BLOCK_TAGS = new Set([
  "if", "unless", "case", "for", "tablerow", "capture", "form", "paginate",
  "style", "javascript", "stylesheet", "schema", "comment", "raw", "doc",
]);

function readText(file) {
  try {
    return readFileSync(join(dir, file), "utf8");
  } catch (e) {
    fail(file, `cannot read (${e.code ?? e.message})`);
    return null;
  }
}

function parseJSON(file, text) {
  try {
    return JSON.parse(text);
  } catch (e) {
    fail(file, `not valid JSON: ${e.message}`);
    return undefined;
  }
}

const lookup = (obj, key) =>
  key.split(".").reduce((o, k) => (o !== null && typeof o === "object" ? o[k] : undefined), obj);

// --- shopify.extension.toml
if (!existsSync(dir) || !statSync(dir).isDirectory()) {
  console.error(`theme app extension ${name}: no such directory`);
  process.exit(1);
}
const toml = readText("shopify.extension.toml");
if (toml !== null) {
  const lines = toml.split("\n").map((l) => l.replace(/#.*$/, "").trim());
  if (!lines.some((l) => /^type\s*=\s*"theme"$/.test(l))) {
    fail("shopify.extension.toml", 'needs type = "theme"');
  }
  if (!lines.some((l) => /^name\s*=\s*"[^"]+"$/.test(l))) fail("shopify.extension.toml", "needs a name");
}

// --- files the CLI would upload: one level down, in the supported buckets
let liquidBytes = 0;
let bundleBytes = 0;
for (const entry of readdirSync(dir, { withFileTypes: true })) {
  if (!entry.isDirectory() || entry.name === "node_modules" || entry.name.startsWith(".")) continue;
  const bucket = entry.name;
  for (const f of readdirSync(join(dir, bucket), { withFileTypes: true })) {
    const path = `${bucket}/${f.name}`;
    if ([".DS_Store", ".gitkeep", "Thumbs.db", "desktop.ini"].includes(f.name)) continue;
    if (!(bucket in BUCKETS)) {
      fail(path, `Shopify CLI only deploys ${Object.keys(BUCKETS).join(", ")}; remove the ${bucket}/ directory`);
      continue;
    }
    if (f.isDirectory()) {
      fail(path, `subdirectories are not supported in ${bucket}/`);
      continue;
    }
    if (!BUCKETS[bucket].includes(extname(f.name).toLowerCase())) {
      fail(path, `Shopify CLI refuses this file: only ${BUCKETS[bucket].join(", ")} in ${bucket}/`);
    }
    const size = statSync(join(dir, path)).size;
    bundleBytes += size;
    if (bucket === "blocks" || bucket === "snippets") liquidBytes += size;
  }
}
if (liquidBytes > LIQUID_LIMIT) fail(name, `Liquid files total ${liquidBytes} bytes, over ${LIQUID_LIMIT}`);
if (bundleBytes > BUNDLE_LIMIT) fail(name, `files total ${bundleBytes} bytes, over ${BUNDLE_LIMIT}`);

// --- locales
const schemaLocales = {};
const localesDir = join(dir, "locales");
if (existsSync(localesDir)) {
  for (const f of readdirSync(localesDir).filter((f) => f.endsWith(".json"))) {
    const text = readText(`locales/${f}`);
    const data = text === null ? undefined : parseJSON(`locales/${f}`, text);
    if (data !== undefined && (data === null || typeof data !== "object" || Array.isArray(data))) {
      fail(`locales/${f}`, "must be a JSON object");
    } else if (data !== undefined && f.endsWith(".schema.json")) {
      schemaLocales[f] = data;
    }
  }
}
const defaultSchemaLocales = Object.keys(schemaLocales).filter((f) => f.endsWith(".default.schema.json"));

// --- blocks
function checkTags(where, src) {
  const stack = [];
  // {% tag … %}, with whitespace control; inside comment/raw/schema only the end tag counts.
  for (const m of src.matchAll(/\{%-?\s*(\w+)([\s\S]*?)-?%\}/g)) {
    const tag = m[1];
    const line = src.slice(0, m.index).split("\n").length;
    const open = stack[stack.length - 1];
    if (open && ["comment", "raw", "schema", "doc"].includes(open.tag) && tag !== `end${open.tag}`) continue;
    if (BLOCK_TAGS.has(tag)) {
      stack.push({ tag, line });
    } else if (tag.startsWith("end") && BLOCK_TAGS.has(tag.slice(3))) {
      if (!open) fail(where, `line ${line}: {% ${tag} %} without {% ${tag.slice(3)} %}`);
      else if (open.tag !== tag.slice(3)) fail(where, `line ${line}: {% ${tag} %} closes {% ${open.tag} %} of line ${open.line}`);
      else stack.pop();
    }
  }
  for (const o of stack) fail(where, `line ${o.line}: {% ${o.tag} %} is never closed`);
  const outOpen = (src.match(/\{\{/g) ?? []).length;
  const outClose = (src.match(/\}\}/g) ?? []).length;
  if (outOpen !== outClose) fail(where, `${outOpen} "{{" for ${outClose} "}}"`);
}

function checkSchema(where, src, schema) {
  if (schema === null || typeof schema !== "object" || Array.isArray(schema)) {
    fail(where, "the schema must be a JSON object");
    return;
  }
  if (typeof schema.name !== "string" || !schema.name) fail(where, 'the schema needs a "name"');
  if (!["body", "head"].includes(schema.target)) {
    fail(where, `an app embed needs "target": "body" or "head" (got ${JSON.stringify(schema.target)})`);
  }
  const settings = schema.settings ?? [];
  if (!Array.isArray(settings)) {
    fail(where, '"settings" must be an array');
    return;
  }
  const seen = new Set();
  for (const [i, s] of settings.entries()) {
    if (s === null || typeof s !== "object" || typeof s.type !== "string") {
      fail(where, `setting #${i} needs a "type"`);
      continue;
    }
    if (["header", "paragraph"].includes(s.type)) continue;
    if (typeof s.id !== "string" || !/^[a-z0-9_]+$/i.test(s.id)) {
      fail(where, `setting #${i} needs an "id" made of letters, digits and _`);
      continue;
    }
    if (seen.has(s.id)) fail(where, `setting id "${s.id}" is used twice`);
    seen.add(s.id);
    if (!new RegExp(`block\\.settings\\.${s.id}\\b`).test(src)) fail(where, `setting "${s.id}" is never used`);
    if (s.type === "checkbox" && "default" in s && typeof s.default !== "boolean") {
      fail(where, `checkbox "${s.id}": default must be true or false`);
    }
    if (s.type === "select" || s.type === "radio") {
      const values = Array.isArray(s.options) ? s.options.map((o) => o?.value) : [];
      if (values.length === 0) fail(where, `${s.type} "${s.id}" needs options`);
      if (new Set(values).size !== values.length) fail(where, `${s.type} "${s.id}": duplicate option values`);
      if ("default" in s && !values.includes(s.default)) {
        fail(where, `${s.type} "${s.id}": default ${JSON.stringify(s.default)} is not one of its options`);
      }
    }
  }
  const keys = [...JSON.stringify(schema).matchAll(/"t:([^"]+)"/g)].map((m) => m[1]);
  if (keys.length > 0 && defaultSchemaLocales.length !== 1) {
    fail(where, `uses t: keys but locales/ has ${defaultSchemaLocales.length} *.default.schema.json (want 1)`);
  }
  for (const key of new Set(keys)) {
    for (const [f, data] of Object.entries(schemaLocales)) {
      if (typeof lookup(data, key) !== "string") fail(`locales/${f}`, `missing "${key}" (used by ${where})`);
    }
  }
}

const blocksDir = join(dir, "blocks");
const blocks = existsSync(blocksDir) ? readdirSync(blocksDir).filter((f) => f.endsWith(".liquid")) : [];
if (blocks.length === 0) fail(name, "no blocks/*.liquid");
for (const f of blocks) {
  const where = `blocks/${f}`;
  const src = readText(where);
  if (src === null) continue;
  checkTags(where, src);
  const schemas = [...src.matchAll(/\{%-?\s*schema\s*-?%\}([\s\S]*?)\{%-?\s*endschema\s*-?%\}/g)];
  if (schemas.length !== 1) {
    fail(where, `has ${schemas.length} {% schema %}…{% endschema %}, want exactly 1`);
  } else {
    const schema = parseJSON(`${where} {% schema %}`, schemas[0][1]);
    if (schema !== undefined) checkSchema(where, src, schema);
  }
  const markup = src.replace(/\{%-?\s*schema\s*-?%\}[\s\S]*?\{%-?\s*endschema\s*-?%\}/g, "");
  for (const m of markup.matchAll(/\bcustomer\.(\w+)/g)) {
    fail(where, `writes customer data into the page (customer.${m[1]}); only "if customer" is allowed`);
  }
  for (const m of markup.matchAll(/['"]([^'"]+)['"]\s*\|\s*asset_url/g)) {
    if (!existsSync(join(dir, "assets", basename(m[1])))) {
      fail(where, `loads assets/${m[1]}, which does not exist (go generate ./widget copies the scripts there)`);
    }
  }
}

if (problems.length > 0) {
  console.error(`theme app extension ${name}: ${problems.length} problem(s)\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(`theme app extension ${name}: ok (${blocks.length} block(s), ${Object.keys(schemaLocales).length} schema locale(s))`);
