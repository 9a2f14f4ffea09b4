#!/usr/bin/env node
// CommonJS (bin/package.json): the CLI bundle is CommonJS, loaded without Node's ES module loader.
require('../dist/cli-bundle/main.cjs').main(process.argv.slice(2));
