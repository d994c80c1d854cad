#!/usr/bin/env node
/** `cs live` is `claude-share cs live`: this file is what install.sh links as cs. */
import { main } from '../cli.js';

main([process.argv[0], process.argv[1], 'cs', ...process.argv.slice(2)]).then((code) => {
  process.exitCode = code;
});
