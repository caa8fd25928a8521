/**
 * A bench's result: pretty on stderr unless `--json` was asked for, and always as one JSON
 * object on the last line of stdout (what scripts and the README tables read).
 */
export function printSummary(summary: object): void {
  if (!process.argv.includes('--json')) process.stderr.write(`${JSON.stringify(summary, null, 2)}\n`);
  console.log(JSON.stringify(summary));
}
