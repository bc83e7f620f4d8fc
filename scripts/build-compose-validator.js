#!/usr/bin/env node
// Writes ajv's standalone code for the compose schema beside the compiled validate.js
// (dist/src/compose/load/compose-spec-validator.js), so no compose command compiles the schema
// (~0.2 s of CPU) and the CLI bundle, which takes the file in, has it in its V8 code cache.
const fs = require('node:fs');
const path = require('node:path');

const dir = path.resolve(__dirname, '..', 'dist', 'src', 'compose', 'load');
const { validatorSource } = require(path.join(dir, 'validate.js'));
const out = path.join(dir, 'compose-spec-validator.js');
const tmp = `${out}.${process.pid}.tmp`;
fs.writeFileSync(tmp, validatorSource());
fs.renameSync(tmp, out);
