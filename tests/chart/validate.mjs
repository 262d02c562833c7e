// Validate Kubernetes objects offline with kubernetes-models (and its prometheus-operator models):
// reads a JSON array of objects on stdin, prints one line per object, exits 1 when any is invalid
// or of a kind no model knows. Run with NODE_PATH pointing at the tools' node_modules.
import { createRequire } from "node:module";
import path from "node:path";

const modules = process.env.CDD_NODE_MODULES;
if (!modules) {
  console.error("validate.mjs: CDD_NODE_MODULES is not set");
  process.exit(2);
}

async function modelFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const file = group === "monitoring.coreos.com"
    ? path.join(modules, "@kubernetes-models/prometheus-operator", group, version, `${kind}.js`)
    : path.join(modules, "kubernetes-models", group || "", version, `${kind}.js`);
  const loaded = await import(file);
  return loaded[kind] ?? loaded.default;
}

let input = "";
for await (const chunk of process.stdin) input += chunk;
const objects = JSON.parse(input);
let failed = 0;
for (const object of objects) {
  const name = `${object.kind}/${object.metadata?.namespace ?? "-"}/${object.metadata?.name}`;
  let Model;
  try {
    Model = await modelFor(object.apiVersion, object.kind);
  } catch (error) {
    console.log(`INVALID ${name}: no model for ${object.apiVersion} ${object.kind} (${error.message})`);
    failed++;
    continue;
  }
  try {
    new Model(object).validate();
    console.log(`valid ${name} (${object.apiVersion})`);
  } catch (error) {
    console.log(`INVALID ${name}: ${error.message}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
