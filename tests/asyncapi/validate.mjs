// Validates an AsyncAPI document with the AsyncAPI initiative's parser: exits 1 on any error.
import { readFileSync } from "node:fs";
import { Parser } from "@asyncapi/parser";

const file = process.argv[2];
const parser = new Parser();
const { document, diagnostics } = await parser.parse(readFileSync(file, "utf8"));
const errors = diagnostics.filter((d) => d.severity === 0);
for (const d of diagnostics) {
  console.error(`${["error", "warning", "info", "hint"][d.severity]}: ${d.message} at /${d.path.join("/")}`);
}
if (!document || errors.length > 0) {
  console.error(`${file}: not a valid AsyncAPI document`);
  process.exit(1);
}
console.log(`${file}: valid AsyncAPI ${document.version()}, ${document.channels().length} channels, ${document.messages().length} messages`);
