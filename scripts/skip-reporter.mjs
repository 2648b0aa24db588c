// A node:test reporter that writes one JSON line per skipped test ({ file, name, reason }) and nothing
// else; scripts/run-tests.mjs adds it beside the spec reporter and reads the lines back when skips are
// failures (under CI).
import { relative } from 'node:path';

export default async function* skipReporter(source) {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { skip, file, name } = event.data;
    if (skip === undefined || skip === false) continue;
    yield `${JSON.stringify({ file: file === undefined ? null : relative(process.cwd(), file), name, reason: skip === true ? '' : String(skip) })}\n`;
  }
}
