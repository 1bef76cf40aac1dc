// Validates Kubernetes objects against the OpenAPI schemas of a current Kubernetes release, as the npm packages
// kubernetes-models (built-in kinds) and @kubernetes-models/prometheus-operator (ServiceMonitor) ship them: compiled
// ajv validators, one per type. Those validators check types, enums, formats and required fields but do not reject
// fields the schema lacks, so this script also reports every field no validator read: each object is validated
// through a proxy that records which properties the validator looked at (a map such as labels is enumerated whole),
// and a property nobody looked at is not in the schema (a typo such as readinesProbe). A property whose schema
// accepts anything (free-form JSON such as FieldsV1) is not read either and would be reported: the objects here have
// none.
//
// stdin: a JSON array of objects. stdout: one line per problem, "Kind/name: /json/pointer: what was expected".
// Exit code 0: every object is valid; 1: problems found; 2: the input could not be read.
import { readFileSync } from "node:fs";

const ajvEnglish = (await import("ajv-i18n/localize/en/index.js")).default;

/** The model class of apiVersion/kind, or null when neither package has it. */
async function modelOf(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const candidates = group === ""
    ? [`kubernetes-models/${version}/${kind}`]
    : group === "monitoring.coreos.com"
      ? [`@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`]
      : [`kubernetes-models/${group}/${version}/${kind}`];
  for (const specifier of candidates) {
    try {
      const module = await import(specifier);
      if (module[kind]?.prototype?.validate) return module[kind];
    } catch (e) {
      if (e?.code !== "ERR_PACKAGE_PATH_NOT_EXPORTED" && e?.code !== "ERR_MODULE_NOT_FOUND") throw e;
    }
  }
  return null;
}

const escapePointer = (key) => String(key).replaceAll("~", "~0").replaceAll("/", "~1");

/** A proxy of value that records, per object, the keys read and whether its keys were enumerated. */
function tracked(value, path, records) {
  if (value === null || typeof value !== "object") return value;
  const record = { path, value, read: new Set(), enumerated: false };
  records.push(record);
  const children = new Map();
  return new Proxy(value, {
    get(target, key) {
      const child = target[key];
      if (typeof key !== "string") return child;
      record.read.add(key);
      if (child === null || typeof child !== "object" || !Object.hasOwn(target, key)) return child;
      if (!children.has(key)) children.set(key, tracked(child, `${path}/${escapePointer(key)}`, records));
      return children.get(key);
    },
    has(target, key) {
      if (typeof key === "string") record.read.add(key);
      return key in target;
    },
    ownKeys(target) {
      record.enumerated = true;
      return Reflect.ownKeys(target);
    },
  });
}

let objects;
try {
  objects = JSON.parse(readFileSync(0, "utf8"));
  if (!Array.isArray(objects)) throw new Error("expected a JSON array of objects");
} catch (e) {
  console.log(`stdin: ${e.message}`);
  process.exit(2);
}

const problems = [];
for (const object of objects) {
  const kind = typeof object?.kind === "string" ? object.kind : "?";
  const name = typeof object?.metadata?.name === "string" ? object.metadata.name : "?";
  const where = `${kind}/${name}`;
  if (typeof object?.apiVersion !== "string" || typeof object?.kind !== "string") {
    problems.push(`${where}: /: expected apiVersion and kind`);
    continue;
  }
  const model = await modelOf(object.apiVersion, object.kind);
  if (model === null) {
    problems.push(`${where}: /: no schema for apiVersion ${object.apiVersion}, kind ${object.kind}`);
    continue;
  }
  const records = [];
  try {
    model.prototype.validate.call(tracked(object, "", records));
  } catch (e) {
    if (!Array.isArray(e?.errors)) throw e;
    ajvEnglish(e.errors);
    for (const error of e.errors) problems.push(`${where}: ${error.instancePath || "/"}: ${error.message}`);
  }
  for (const record of records) {
    if (Array.isArray(record.value) || record.enumerated) continue;
    for (const key of Object.keys(record.value)) {
      if (!record.read.has(key)) problems.push(`${where}: ${record.path}/${escapePointer(key)}: unknown field (not in the schema of ${object.apiVersion} ${object.kind})`);
    }
  }
}
for (const problem of problems) console.log(problem);
process.exit(problems.length === 0 ? 0 : 1);
