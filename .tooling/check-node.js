// `npm test` (pretest): stop at once, in one line, when the shell's Node is too old for
// the project. Kept to syntax every Node since 14 parses, so the message itself runs.
'use strict';
var major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(
    'Quarry needs Node 24 (this is Node ' + process.versions.node + '): run `make test`, which provisions it, or put Node 24 first on PATH.',
  );
  process.exit(1);
}
