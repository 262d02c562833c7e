// Independent oracles for the patch tests (HashiCorp's HCL parser and hclwrite's formatter, both
// compiled to wasm; npm `yaml`). Usage:
//   node oracle.js hcl2json FILE          print the file's JSON (syntax errors exit 1)
//   node oracle.js fmt-clean FILE         exit 0 when format(FILE) == FILE, else print and exit 1
//   node oracle.js yaml2json FILE         print every document as a JSON array
const fs = require("fs");
const path = require("path");
const tools = process.env.CDD_NODE_TOOLS || path.join(__dirname, "..", "..", ".tools", "node");
const load = (name) => require(path.join(tools, "node_modules", name));

async function main() {
  const [mode, file] = process.argv.slice(2);
  const text = fs.readFileSync(file, "utf8");
  if (mode === "hcl2json") {
    const json = await load("@cdktf/hcl2json").parse(path.basename(file), text);
    process.stdout.write(JSON.stringify(json, null, 1) + "\n");
  } else if (mode === "fmt-clean") {
    const formatted = await load("@cdktf/hcl-tools").format(text);
    if (formatted !== text) {
      process.stdout.write(formatted);
      process.exit(1);
    }
  } else if (mode === "yaml2json") {
    const docs = load("yaml").parseAllDocuments(text).map((doc) => {
      if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0].message}`);
      return doc.toJS();
    });
    process.stdout.write(JSON.stringify(docs, null, 1) + "\n");
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
}
main().catch((error) => {
  process.stderr.write(`${error.message || error}\n`);
  process.exit(1);
});
