// Entry point of the tsbpf CLI from the compiled modules (dist/src/cli/main.js; tsx in a checkout).
// bin/tsbpf runs the same launch() from a per-command bundle when the build made them (start-up).
import { launch } from './launch.js';

await launch(process.argv);
